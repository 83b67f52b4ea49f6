import type { EscalationRole } from './escalation.ts';
import type { DeadlineKind, EscalationLevel, EscalationReason } from './types.ts';

/** Who is told, beyond the timeline and the dashboards: an escalation's role, or the emergency team. */
export type Notice =
  | { kind: 'escalation'; details: { level: EscalationLevel; role: EscalationRole; reason: EscalationReason; missed: DeadlineKind[] } }
  | { kind: 'emergency-page'; details: { reason: 'people-trapped' | 'critical' } };

export type NoticeKind = Notice['kind'];
