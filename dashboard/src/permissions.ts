import type { Role, TicketAction } from './types.ts';

/**
 * Who may take which action (docs/api.md, roles): engineers work tickets and alarms, the service
 * desk makes callbacks and closes (domain rule 3). The server decides; the dashboard shows only
 * the buttons a role may use. test/dashboard-permissions.test.ts holds this table to the server's routes.
 */
const WORK: readonly Role[] = ['administrator', 'engineer'];
const DESK: readonly Role[] = ['administrator', 'engineer', 'service-desk'];

export const TICKET_ACTION_ROLES: Readonly<Record<TicketAction, readonly Role[]>> = {
  acknowledge: WORK,
  assign: WORK,
  start: WORK,
  resolve: WORK,
  'leak-test': WORK,
  callback: DESK,
  close: DESK,
  reopen: WORK,
};

export const ALARM_ACTION_ROLES = { acknowledge: WORK, shelve: WORK, unshelve: WORK } as const satisfies Record<string, readonly Role[]>;

/** The ticket's allowed actions (its state) that the user's role may take. */
export function ticketActionsFor(role: Role, allowed: readonly TicketAction[]): TicketAction[] {
  return allowed.filter((a) => TICKET_ACTION_ROLES[a]?.includes(role));
}

export function mayHandleAlarms(role: Role): boolean {
  return ALARM_ACTION_ROLES.acknowledge.includes(role);
}
