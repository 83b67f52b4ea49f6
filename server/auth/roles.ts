/**
 * Roles (docs/api.md, roles): the users table of migration 1 and the supervisors and managers of
 * migration 5, who receive escalations (domain rule 9).
 */
export const USER_ROLES = [
  'administrator',
  'engineer',
  'service-desk',
  'viewer',
  'service-supervisor',
  'engineering-supervisor',
  'estate-manager',
  'property-manager',
] as const;
export type UserRole = (typeof USER_ROLES)[number];

const STAFF = ['administrator', 'engineer', 'engineering-supervisor', 'service-desk', 'service-supervisor', 'estate-manager', 'property-manager'] as const;
const ENGINEERING = ['administrator', 'engineer', 'engineering-supervisor', 'estate-manager', 'property-manager'] as const;
const CUSTOMER_SERVICE = ['administrator', 'service-desk', 'service-supervisor', 'estate-manager', 'property-manager'] as const;

/**
 * Who may do what. Viewers read. Customer service (the service desk and its supervisor) records
 * repair requests and complaints, replies to complaints and calls owners back, checking the
 * repairers' work (domain rules 3, 4); engineering (engineers and their supervisor) works the
 * tickets, checks repairs and verifies work with no owner, and handles alarms; the estate and
 * property managers may do both; administrators do everything, users included.
 */
export const ROLES = {
  read: [...STAFF, 'viewer'],
  createTicket: STAFF,
  workTicket: ENGINEERING,
  customerService: CUSTOMER_SERVICE,
  staff: STAFF,
  handleAlarm: ENGINEERING,
  manageUsers: ['administrator'],
} as const satisfies Record<string, readonly UserRole[]>;
