import type { Role, TicketAction } from './types.ts';

/**
 * Who may take which action (docs/api.md, roles): engineering (engineers and their supervisor)
 * works tickets, checks and verifies repairs and handles alarms; customer service (the service desk
 * and its supervisor) replies to complaints and calls owners back (domain rule 3); the managers may
 * do both; every member of staff may escalate and close. The server decides; the dashboard shows
 * only the buttons a role may use. test/dashboard-permissions.test.ts holds this table to the server's routes.
 */
const ENGINEERING: readonly Role[] = ['administrator', 'engineer', 'engineering-supervisor', 'estate-manager', 'property-manager'];
const CUSTOMER_SERVICE: readonly Role[] = ['administrator', 'service-desk', 'service-supervisor', 'estate-manager', 'property-manager'];
const STAFF: readonly Role[] = ['administrator', 'engineer', 'engineering-supervisor', 'service-desk', 'service-supervisor', 'estate-manager', 'property-manager'];

export const TICKET_ACTION_ROLES: Readonly<Record<TicketAction, readonly Role[]>> = {
  acknowledge: ENGINEERING,
  assign: ENGINEERING,
  start: ENGINEERING,
  resolve: ENGINEERING,
  'leak-test': ENGINEERING,
  'quality-check': ENGINEERING,
  reply: CUSTOMER_SERVICE,
  callback: CUSTOMER_SERVICE,
  verify: ENGINEERING,
  escalate: STAFF,
  close: STAFF,
  reopen: ENGINEERING,
};

export const ALARM_ACTION_ROLES = { acknowledge: ENGINEERING, shelve: ENGINEERING, unshelve: ENGINEERING } as const satisfies Record<string, readonly Role[]>;

/** The ticket's allowed actions (its state) that the user's role may take. */
export function ticketActionsFor(role: Role, allowed: readonly TicketAction[]): TicketAction[] {
  return allowed.filter((a) => TICKET_ACTION_ROLES[a]?.includes(role));
}

export function mayHandleAlarms(role: Role): boolean {
  return ALARM_ACTION_ROLES.acknowledge.includes(role);
}
