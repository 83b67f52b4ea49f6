import type { UserRole } from '../auth/roles.ts';
import { missedDeadlines } from './deadlines.ts';
import type { DeadlineKind, EscalationLevel, EscalationReason, MissedDeadline, WorkOrderRecord } from './types.ts';

/** The roles that receive escalations, lowest level first. */
export const ESCALATION_ROLES = ['service-supervisor', 'engineering-supervisor', 'estate-manager', 'property-manager'] as const satisfies readonly UserRole[];
export type EscalationRole = (typeof ESCALATION_ROLES)[number];

export const MAX_ESCALATION_LEVEL: EscalationLevel = 3;

const REASON_OF: Record<DeadlineKind, EscalationReason> = {
  response: 'response-overdue',
  reply: 'reply-overdue',
  callback: 'callback-overdue',
  verification: 'verification-overdue',
};

/**
 * Who a work order goes up to (domain rule 9): at the first level the supervisor of the team that
 * owes the next step (the customer-service supervisor, 客服部主管, for replies and callbacks; the
 * engineering supervisor, 工程部主管, for the response, the repair and its verification, and for a
 * callback that found the repair did not hold), then the estate manager (项目经理), then the
 * property manager (物业经理).
 */
export function escalationRole(level: EscalationLevel, reason: EscalationReason, r: Pick<WorkOrderRecord, 'source' | 'state' | 'followUp'>): EscalationRole {
  if (level >= 3) return 'property-manager';
  if (level === 2) return 'estate-manager';
  switch (reason) {
    case 'reply-overdue':
    case 'callback-overdue':
      return 'service-supervisor';
    case 'response-overdue':
    case 'verification-overdue':
    case 'callback-problem':
      return 'engineering-supervisor';
    case 'by-hand': {
      const repaired = ['resolved', 'quality_checked', 'callback_done', 'verified', 'closed'].includes(r.state);
      return r.source === 'complaint' || (repaired && r.followUp === 'callback') ? 'service-supervisor' : 'engineering-supervisor';
    }
  }
}

export function nextLevel(level: EscalationLevel): EscalationLevel {
  return Math.min(level + 1, MAX_ESCALATION_LEVEL) as EscalationLevel;
}

export function reasonOf(kind: DeadlineKind): EscalationReason {
  return REASON_OF[kind];
}

/** The deadline each mark records; callback and verification share one. */
function markOf(r: WorkOrderRecord, kind: DeadlineKind): number | null {
  if (kind === 'response') return r.responseEscalatedFor;
  if (kind === 'reply') return r.replyEscalatedFor;
  return r.callbackEscalatedFor;
}

/**
 * The deadlines missed at `now` that have not been escalated yet: a missed deadline escalates
 * once; a new one (a reopening's response, a callback's retry) may escalate again.
 */
export function owedEscalations(r: WorkOrderRecord, now: number): MissedDeadline[] {
  return missedDeadlines(r, now).filter((m) => markOf(r, m.kind) !== m.dueAt);
}

/** `next` with the missed deadlines marked as escalated. */
export function markEscalated(next: WorkOrderRecord, missed: readonly MissedDeadline[]): void {
  for (const m of missed) {
    if (m.kind === 'response') next.responseEscalatedFor = m.dueAt;
    else if (m.kind === 'reply') next.replyEscalatedFor = m.dueAt;
    else next.callbackEscalatedFor = m.dueAt;
  }
}
