/**
 * What the server sends (docs/sockets.md, docs/api.md), as the dashboard reads it. Fields a later
 * server may add (alarm suppression, flood summaries) are optional and rendered when present.
 */
export type Role = 'administrator' | 'engineer' | 'service-desk' | 'viewer' | 'service-supervisor' | 'engineering-supervisor' | 'estate-manager' | 'property-manager';

export interface User {
  id: number;
  username: string;
  displayName: string;
  role: Role;
}

export interface Session {
  token: string;
  expiresAt: number;
  user: User;
}

export interface SiteInfo {
  id: string;
  name: string;
  timezone: string;
  demo: boolean;
  buildings: { id: string; name: string; type: string; units: number; devices: number }[];
}

export type BuildingCondition = 'alarm' | 'warning' | 'offline' | 'normal';
export type Severity = 'critical' | 'high' | 'medium' | 'low';

export interface BuildingStatus {
  id: string;
  name: string;
  condition: BuildingCondition;
  devices: { total: number; online: number; offline: number; unknown: number };
  alarms: { open: number; active: number; unacknowledged: number; bySeverity: Record<Severity, number> };
  worstSeverity: Severity | null;
}

export type Quality = 'good' | 'uncertain' | 'bad';

export interface LiveMetric {
  value: number | null;
  quality: Quality;
  ts: number;
  engUnit?: string;
}

export interface DeviceLiveState {
  id: string;
  building: string;
  kind: string;
  name: string;
  unit?: string;
  status: 'online' | 'offline' | 'unknown';
  statusSince?: number;
  lastSeen?: number;
  gateway?: string;
  metrics: Record<string, LiveMetric>;
  lastEvent?: { event: string; ts: number; attrs: Record<string, string | number | boolean> };
}

export type AlarmState = 'active-unacknowledged' | 'active-acknowledged' | 'cleared-unacknowledged' | 'cleared';

/** A flood summary groups the alarms of one flood; its children are suppressed while it stands. */
export interface FloodSummary {
  count?: number;
  children?: string[];
  since?: number;
}

export interface Alarm {
  id: string;
  key: string;
  ruleId: string;
  device: string;
  building: string;
  kind: string;
  unit?: string;
  instance?: string;
  metric?: string;
  category: string;
  severity: Severity;
  title: { en: string; zh: string };
  state: AlarmState;
  conditionActive: boolean;
  value?: number;
  limit?: number;
  raisedAt: number;
  announcedAt?: number;
  lastTripAt: number;
  clearedAt?: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  updatedAt: number;
  occurrences: number;
  chattering: boolean;
  shelved?: { by: string; reason: string; at: number; until: number };
  suppressed?: boolean;
  suppressedBy?: string;
  flood?: FloodSummary | boolean;
}

export interface AlarmMessage {
  alarm: Alarm;
  critical: boolean;
  change?: string;
  notify?: boolean;
}

export type TicketState = 'open' | 'acknowledged' | 'in_progress' | 'resolved' | 'quality_checked' | 'callback_done' | 'verified' | 'closed' | 'reopened';
export type TicketAction = 'acknowledge' | 'assign' | 'start' | 'resolve' | 'leak-test' | 'quality-check' | 'reply' | 'callback' | 'verify' | 'escalate' | 'close' | 'reopen';
export type DeadlineKind = 'response' | 'reply' | 'callback' | 'verification';

export interface WorkOrder {
  id: number;
  source: string;
  category: string;
  priority: Severity;
  state: TicketState;
  title: string;
  detail: string;
  building: string;
  unit: string | null;
  deviceId: string | null;
  ruleId: string | null;
  reporter: string | null;
  peopleTrapped: boolean;
  complaintType: 'valid' | 'help' | 'enquiry' | 'venting' | null;
  followUp: 'callback' | 'verification';
  assigneeUserId: number | null;
  assigneeTeamId: number | null;
  createdAt: number;
  updatedAt: number;
  acknowledgedAt: number | null;
  startedAt: number | null;
  resolvedAt: number | null;
  resolvedBy: number | null;
  leakTestAt: number | null;
  qualityCheckedAt: number | null;
  qualityCheckedBy: number | null;
  callbackAt: number | null;
  callbackOutcome: 'satisfied' | 'problem' | null;
  callbackAttempts: number;
  satisfaction: 'satisfied' | 'basically-satisfied' | 'dissatisfied' | null;
  verifiedAt: number | null;
  closedAt: number | null;
  reopenedAt: number | null;
  responseDueAt: number;
  replyDueAt: number | null;
  repliedAt: number | null;
  callbackDueAt: number | null;
  callbackStatus: string;
  escalationLevel: 0 | 1 | 2 | 3;
  escalatedAt: number | null;
  repairItem: string | null;
  cost: number | null;
  occurrences: number;
  reopenCount: number;
  overdue: DeadlineKind[];
  allowedActions: TicketAction[];
}

export interface TimelineEntry {
  id: number;
  at: number;
  by: number | null;
  byName: string | null;
  action: string;
  fromState: TicketState | null;
  toState: TicketState;
  comment: string | null;
  details: Record<string, unknown>;
}

export interface WorkOrderWithTimeline extends WorkOrder {
  timeline: TimelineEntry[];
}

export interface TicketMessage {
  ticket: WorkOrder;
  event: TimelineEntry;
  critical: boolean;
}

export interface Snapshot {
  at: number;
  buildings: string[];
  status: BuildingStatus[];
  devices: DeviceLiveState[];
  alarms: Alarm[];
  tickets: WorkOrder[];
}
