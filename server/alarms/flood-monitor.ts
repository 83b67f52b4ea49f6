import { EventEmitter } from 'node:events';
import type { Alarm } from './alarm.ts';
import { DEFAULT_FLOOD_POLICY, floodEndsAt, type FloodPolicy } from './flood-policy.ts';

/** An alarm flood: more alarms announced within the window than the limit (docs/rules.md). */
export interface Flood {
  /** `flood-{startedAt}`: the id of its summary on the dashboard feed. */
  id: string;
  startedAt: number;
  endedAt?: number;
  /** Most alarms announced within one window while it lasted. */
  peak: number;
  /** Alarms announced while it lasted (the one that started it included). */
  alarms: number;
  /** Of those, non-critical ones grouped into its summary on the dashboard feed. */
  grouped: number;
}

export interface FloodEvents {
  started: [flood: Flood];
  /** More alarms (or a new peak) during a flood. */
  changed: [flood: Flood];
  ended: [flood: Flood];
}

/**
 * Counts the alarms announced for the estate over a sliding window (EEMUA 191: 10 per 10 minutes
 * per operator). Above the limit a flood starts: each non-critical alarm announced while it lasts is
 * grouped (the dashboard feed shows it in the flood's summary instead of announcing it); critical
 * ones never are. The flood ends once the window holds half the limit or fewer.
 */
export class FloodMonitor extends EventEmitter<FloodEvents> {
  readonly policy: FloodPolicy;
  /** Announcement times within the window, oldest first. */
  private window: number[] = [];
  private flood: Flood | undefined;
  private readonly grouped = new Set<string>();

  constructor(policy: FloodPolicy = DEFAULT_FLOOD_POLICY) {
    super();
    this.policy = policy;
  }

  /** The flood going on, if any. */
  get current(): Readonly<Flood> | undefined {
    return this.flood && { ...this.flood };
  }

  /** Alarms announced within the window ending at `now`. */
  rate(now: number): number {
    this.slide(now);
    return this.window.length;
  }

  /** Picks up after a restart: the flood a previous run left open, and the times alarms were announced lately. */
  resume(open: Flood | undefined, announcedAt: readonly number[]): void {
    this.window = [...announcedAt].sort((a, b) => a - b);
    this.flood = open && { ...open };
  }

  /** An alarm was announced. True when it is grouped into the flood going on. */
  observe(alarm: Pick<Alarm, 'id' | 'severity' | 'announcedAt' | 'lastTripAt'>): boolean {
    const at = alarm.announcedAt ?? alarm.lastTripAt;
    this.slide(at);
    this.window.push(at);
    const count = this.window.length;
    if (!this.flood) {
      if (count <= this.policy.limit) return false;
      this.flood = { id: `flood-${at}`, startedAt: at, peak: count, alarms: 1, grouped: 0 };
      this.grouped.clear();
      const group = alarm.severity !== 'critical';
      if (group) this.group(alarm.id);
      this.emit('started', { ...this.flood });
      return group;
    }
    this.flood.alarms++;
    this.flood.peak = Math.max(this.flood.peak, count);
    const group = alarm.severity !== 'critical';
    if (group) this.group(alarm.id);
    this.emit('changed', { ...this.flood });
    return group;
  }

  /** Whether an alarm is grouped into the flood going on. */
  isGrouped(id: string): boolean {
    return this.grouped.has(id);
  }

  /** Ids of the alarms grouped into the flood going on. */
  groupedIds(): string[] {
    return [...this.grouped];
  }

  /** Ends the flood once the rate has fallen. */
  tick(now: number): void {
    if (!this.flood) return;
    this.slide(now);
    if (this.window.length > floodEndsAt(this.policy)) return;
    const ended = { ...this.flood, endedAt: now };
    this.flood = undefined;
    this.grouped.clear();
    this.emit('ended', ended);
  }

  /** When the rate may have fallen enough to end the flood. */
  nextDue(): number | undefined {
    if (!this.flood) return undefined;
    const keep = floodEndsAt(this.policy);
    // The flood ends when all but `keep` of the announcements in the window have left it.
    const leaving = this.window[this.window.length - keep - 1];
    return leaving === undefined ? 0 : leaving + this.policy.windowMs;
  }

  private group(id: string): void {
    this.grouped.add(id);
    this.flood!.grouped++;
  }

  private slide(now: number): void {
    const from = now - this.policy.windowMs;
    let drop = 0;
    while (drop < this.window.length && this.window[drop]! <= from) drop++;
    if (drop > 0) this.window.splice(0, drop);
  }
}
