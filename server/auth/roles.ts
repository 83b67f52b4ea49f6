/** Roles of migration 1's users table. */
export const USER_ROLES = ['administrator', 'engineer', 'service-desk', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/**
 * Who may do what. Viewers read; the service desk records repair calls and complaints and makes
 * the callbacks (docs/domain.md rules 3, 4); engineers work tickets and alarms; administrators do everything,
 * users included.
 */
export const ROLES = {
  read: ['administrator', 'engineer', 'service-desk', 'viewer'],
  createTicket: ['administrator', 'engineer', 'service-desk'],
  callback: ['administrator', 'engineer', 'service-desk'],
  workTicket: ['administrator', 'engineer'],
  handleAlarm: ['administrator', 'engineer'],
  manageUsers: ['administrator'],
} as const satisfies Record<string, readonly UserRole[]>;
