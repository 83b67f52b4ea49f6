import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { AlarmRepository } from '../records/alarm-repository.ts';
import { OrderedWrites } from '../records/ordered-writes.ts';
import { alarmReport, DEFAULT_REPORT_POLICY, type AlarmReport } from './alarm-report.ts';
import { CauseSuppression } from './cause-suppression.ts';
import { FloodMonitor, type Flood } from './flood-monitor.ts';
import type { FloodPolicy } from './flood-policy.ts';
import {
  AlarmActionError,
  MAX_SHELVE_MS,
  acknowledgedState,
  clearedState,
  compareAlarms,
  isActive,
  retrippedState,
  type Alarm,
  type AlarmCategory,
  type AlarmHistoryQuery,
  type AlarmPoint,
  type LocalizedText,
  type Shelf,
} from './alarm.ts';

export type { AlarmPoint };

export interface TripFacts {
  title: LocalizedText;
  value?: number;
  limit?: number;
  details?: Record<string, string | number | boolean>;
}

/** A point that trips `count` times within `windowMs` is chattering until it has not tripped for `quietMs`. */
export interface ChatterPolicy {
  count: number;
  windowMs: number;
  quietMs: number;
}

export const DEFAULT_CHATTER_POLICY: ChatterPolicy = { count: 3, windowMs: 60_000, quietMs: 300_000 };

export type AlarmChange =
  | 'retripped'
  | 'chattering'
  | 'chattering-ended'
  | 'acknowledged'
  | 'shelved'
  | 'unshelved'
  | 'raised-while-shelved'
  | 'returned-to-normal-held'
  | 'released-while-shelved'
  // The dashboard feed's, during an alarm flood (server/live/alarm-feed.ts):
  | 'grouped'
  | 'ungrouped'
  | 'flood';

export interface AlarmUpdate {
  alarm: Alarm;
  change: AlarmChange;
  /** True when the change needs an operator's attention now (never for shelved alarms). */
  notify: boolean;
}

export interface AlarmEvents {
  /** A new alarm is announced: at its raise, or when its point is unshelved while it is still active. Once per alarm id. */
  'alarm-raised': [alarm: Alarm];
  /** The condition returned to normal (state `cleared-unacknowledged`, or `cleared` when it was acknowledged). */
  'alarm-cleared': [alarm: Alarm];
  'alarm-updated': [update: AlarmUpdate];
  /**
   * A change to an alarm suppressed by its cause (raised, re-tripped, cleared, another cause):
   * stored, not announced. Once its cause has returned and the grace has passed, an alarm still in
   * alarm is announced with `alarm-raised`.
   */
  'alarm-suppressed': [alarm: Alarm];
  /** A change that could not be stored, and so was not announced; the service carries on. */
  error: [err: Error];
}

export interface AlarmListFilter {
  building?: string;
  device?: string;
  category?: AlarmCategory;
  /** Alarms suppressed by their cause: left out (`hide`, the default), `only` those, or `include`d. */
  suppressed?: 'hide' | 'only' | 'include';
}

export interface AlarmServiceOptions {
  store: AlarmRepository;
  clock?: () => number;
  chatter?: ChatterPolicy;
  /** The queue the changes are stored through; share it with whatever must write in the same order. */
  writes?: OrderedWrites;
  /** Causes in alarm and their dependents: the offline alarms of those are suppressed. Default: none. */
  suppression?: CauseSuppression;
  /** When announcements make an alarm flood (default: more than 10 in 10 minutes). */
  flood?: FloodPolicy;
  logger?: Logger;
}

/**
 * The alarms of the estate: raised and cleared by the rules engine, acknowledged and shelved by
 * operators. Open alarms live in memory and change at once; each change is stored, in order,
 * through `writes`, and announced (emitted) only once it is stored. `settled()` resolves when
 * every change so far is stored and announced.
 */
export class AlarmService extends EventEmitter<AlarmEvents> {
  readonly chatter: ChatterPolicy;
  readonly writes: OrderedWrites;
  readonly suppression: CauseSuppression;
  /** Alarm floods: the rate of announcements, and which alarms the dashboard feed groups. */
  readonly floods: FloodMonitor;
  private readonly store: AlarmRepository;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly open = new Map<string, Alarm>();
  private readonly openByKey = new Map<string, Alarm>();
  private readonly shelves = new Map<string, Shelf>();
  private readonly trips = new Map<string, number[]>();
  private restored = false;
  /** Row ids of the floods going on, once stored. */
  private readonly floodRows = new Map<string, Promise<number>>();

  constructor(options: AlarmServiceOptions) {
    super();
    this.store = options.store;
    this.clock = options.clock ?? Date.now;
    this.chatter = options.chatter ?? DEFAULT_CHATTER_POLICY;
    this.writes = options.writes ?? new OrderedWrites();
    this.suppression = options.suppression ?? new CauseSuppression(undefined, this.clock());
    this.floods = new FloodMonitor(options.flood);
    this.recordFloods();
    this.log = options.logger ?? createLogger('alarms');
  }

  /** Loads the open alarms and shelves of a previous run; once, before the first change. */
  async restore(): Promise<void> {
    if (this.restored) return;
    this.restored = true;
    for (const a of await this.store.openAlarms()) {
      this.open.set(a.id, a);
      this.openByKey.set(a.key, a);
    }
    for (const { key, shelf } of await this.store.shelves()) this.shelves.set(key, shelf);
    const now = this.clock();
    const open = await this.store.openFlood();
    if (open) this.floodRows.set(open.id, Promise.resolve(open.rowId));
    const recent = await this.store.history({ from: now - this.floods.policy.windowMs, limit: 1000 });
    this.floods.resume(open, recent.flatMap((a) => (a.announcedAt !== undefined && a.announcedAt > now - this.floods.policy.windowMs ? [a.announcedAt] : [])));
  }

  /** Resolves once every change so far is stored and announced. */
  settled(): Promise<void> {
    return this.writes.settled();
  }

  /** The open alarm of a point, if any (read-only view for the rules engine). */
  openAlarmFor(key: string): Readonly<Alarm> | undefined {
    return this.openByKey.get(key);
  }

  /** The condition of a point went into alarm at `ts`. */
  trip(point: AlarmPoint, ts: number, facts: TripFacts): void {
    const chattering = this.recordTrip(point.key, ts);
    const alarm = this.openByKey.get(point.key);
    if (!alarm) {
      this.raise(point, ts, facts, chattering);
      return;
    }
    const wasUnackCleared = alarm.state === 'cleared-unacknowledged';
    const becameChattering = chattering && !alarm.chattering;
    alarm.state = retrippedState(alarm.state);
    alarm.conditionActive = true;
    alarm.occurrences += 1;
    alarm.lastTripAt = ts;
    alarm.updatedAt = ts;
    alarm.title = facts.title;
    setFacts(alarm, facts);
    delete alarm.clearedAt;
    if (becameChattering) {
      alarm.chattering = true;
      alarm.chatteredAt ??= ts;
    }
    if (alarm.suppressed) {
      this.record(alarm, (view) => this.emit('alarm-suppressed', view));
      return;
    }
    if (!alarm.announcedAt && !alarm.shelved) {
      alarm.announcedAt = ts;
      this.record(alarm, (view) => this.announce(view));
      return;
    }
    const change = becameChattering ? 'chattering' : 'retripped';
    const notify = !alarm.shelved && (becameChattering || wasUnackCleared);
    this.record(alarm, (view) => this.emit('alarm-updated', { alarm: view, change, notify }));
  }

  /** The condition of a point returned to normal at `ts`. A chattering alarm is held until its quiet period ends. */
  returnToNormal(key: string, ts: number): void {
    const alarm = this.openByKey.get(key);
    if (!alarm || !alarm.conditionActive) return;
    alarm.conditionActive = false;
    alarm.updatedAt = ts;
    if (alarm.chattering && !alarm.suppressed) {
      this.record(alarm, (view) => this.emit('alarm-updated', { alarm: view, change: 'returned-to-normal-held', notify: false }));
      return;
    }
    this.clear(alarm, ts);
  }

  /** ISA-18.2 acknowledge: active → active-acknowledged; returned to normal → cleared (closed). Resolves once stored. */
  async acknowledge(id: string, by: string, comment?: string, now = this.clock()): Promise<Alarm> {
    const alarm = this.open.get(id) ?? (await this.refuseMissing(id));
    if (!by.trim()) throw new AlarmActionError('invalid', 'acknowledge needs the name of who acknowledges');
    const next = acknowledgedState(alarm.state);
    if (!next) throw new AlarmActionError('conflict', `alarm ${id} is already acknowledged`);
    alarm.state = next;
    alarm.acknowledgedAt = now;
    alarm.acknowledgedBy = by;
    if (comment?.trim()) alarm.acknowledgeComment = comment.trim();
    alarm.updatedAt = now;
    if (next === 'cleared') this.close(alarm, now);
    return this.commit(alarm, (view) => this.emit('alarm-updated', { alarm: view, change: 'acknowledged', notify: false }));
  }

  /**
   * Shelves the point of an open alarm until `untilMs` (at most 24 h ahead, reason required). While
   * shelved, the point's changes do not notify and new alarms of the point are not announced.
   * Resolves once stored.
   */
  async shelve(id: string, by: string, reason: string, untilMs: number, now = this.clock()): Promise<Alarm> {
    const alarm = this.open.get(id) ?? (await this.refuseMissing(id));
    if (!by.trim()) throw new AlarmActionError('invalid', 'shelve needs the name of who shelves');
    if (!reason.trim()) throw new AlarmActionError('invalid', 'shelve needs a reason');
    if (!Number.isFinite(untilMs) || untilMs <= now) throw new AlarmActionError('invalid', 'shelve needs an end time in the future');
    if (untilMs - now > MAX_SHELVE_MS) throw new AlarmActionError('invalid', 'an alarm can be shelved for at most 24 hours');
    const shelf: Shelf = { by, reason: reason.trim(), at: now, until: untilMs };
    this.shelves.set(alarm.key, shelf);
    alarm.shelved = shelf;
    alarm.shelvedAt ??= now;
    alarm.updatedAt = now;
    return this.commit(alarm, (view) => this.emit('alarm-updated', { alarm: view, change: 'shelved', notify: false }), (view) => this.store.shelve(alarm.key, shelf, view));
  }

  /** Ends a shelf before its deadline. Resolves once stored. */
  async unshelve(id: string, now = this.clock()): Promise<Alarm> {
    const alarm = this.open.get(id) ?? (await this.refuseMissing(id));
    if (!this.shelves.has(alarm.key)) throw new AlarmActionError('conflict', `alarm ${id} is not shelved`);
    return (await this.endShelf(alarm.key, now))!;
  }

  /** Ends shelves at their deadline, chattering after its quiet period, and suppression once its cause has returned and the grace passed. */
  tick(now: number): void {
    for (const [key, shelf] of this.shelves) if (shelf.until <= now) this.endShelf(key, now).catch((err: unknown) => this.fail(err));
    for (const alarm of this.open.values()) if (alarm.suppressed) this.reconsiderSuppression(alarm, now);
    this.floods.tick(now);
    for (const alarm of this.open.values()) {
      if (!alarm.chattering || now - alarm.lastTripAt < this.chatter.quietMs) continue;
      alarm.chattering = false;
      alarm.updatedAt = now;
      this.trips.delete(alarm.key);
      this.record(alarm, (view) => this.emit('alarm-updated', { alarm: view, change: 'chattering-ended', notify: false }));
      if (!alarm.conditionActive) this.clear(alarm, now);
    }
  }

  /** The earliest time tick() has something to do, or undefined. */
  nextDue(): number | undefined {
    let due = this.floods.nextDue();
    for (const shelf of this.shelves.values()) due = due === undefined ? shelf.until : Math.min(due, shelf.until);
    for (const a of this.open.values()) {
      let end: number | undefined;
      if (a.chattering) end = a.lastTripAt + this.chatter.quietMs;
      if (a.suppressed && this.suppression.causeOf(a) === undefined) {
        const release = this.suppression.releaseAt(a.suppressedBy!);
        end = end === undefined ? release : Math.min(end, release);
      }
      if (end !== undefined) due = due === undefined ? end : Math.min(due, end);
    }
    return due;
  }

  /** Open alarms (active, or returned to normal and not yet acknowledged), most severe first; those suppressed by their cause only on request. */
  listActive(filter: AlarmListFilter = {}): Alarm[] {
    const out: Alarm[] = [];
    const suppressed = filter.suppressed ?? 'hide';
    for (const a of this.open.values()) {
      if (suppressed === 'hide' ? a.suppressed : suppressed === 'only' && !a.suppressed) continue;
      if (filter.building !== undefined && a.building !== filter.building) continue;
      if (filter.device !== undefined && a.device !== filter.device) continue;
      if (filter.category !== undefined && a.category !== filter.category) continue;
      out.push(snapshot(a));
    }
    return out.sort(compareAlarms);
  }

  /** Every alarm, closed ones too, newest first; the changes decided so far included. */
  async history(query: AlarmHistoryQuery = {}): Promise<Alarm[]> {
    await this.writes.settled();
    return this.store.history(query);
  }

  /**
   * The alarm-system report of [from, to) (docs/rules.md), the changes decided so far included;
   * `workOrders` is how many work orders alarms opened in the period.
   */
  async report(from: number, to: number, workOrders: number): Promise<AlarmReport> {
    await this.writes.settled();
    const [alarms, floods] = await Promise.all([this.store.overlapping(from, to), this.store.floods(from, to)]);
    return alarmReport({ from, to, now: this.clock(), alarms, floods, workOrders }, { ...DEFAULT_REPORT_POLICY, flood: this.floods.policy });
  }

  /** One alarm, open or closed. */
  async get(id: string): Promise<Alarm | undefined> {
    const a = this.open.get(id);
    if (a) return snapshot(a);
    await this.writes.settled();
    return this.store.getAlarm(id);
  }

  private raise(point: AlarmPoint, ts: number, facts: TripFacts, chattering: boolean): void {
    const shelf = this.shelves.get(point.key);
    const cause = this.suppression.causeOf(point);
    const alarm: Alarm = {
      id: randomUUID(),
      ...point,
      title: facts.title,
      state: 'active-unacknowledged',
      conditionActive: true,
      raisedAt: ts,
      lastTripAt: ts,
      updatedAt: ts,
      occurrences: 1,
      chattering,
    };
    setFacts(alarm, facts);
    if (chattering) alarm.chatteredAt = ts;
    if (cause) Object.assign(alarm, { suppressed: true, suppressedBy: cause, suppressedAt: ts });
    if (shelf) Object.assign(alarm, { shelved: shelf, shelvedAt: shelf.at });
    if (!cause && !shelf) alarm.announcedAt = ts;
    this.open.set(alarm.id, alarm);
    this.openByKey.set(alarm.key, alarm);
    if (cause) this.record(alarm, (view) => this.emit('alarm-suppressed', view));
    else if (shelf) this.record(alarm, (view) => this.emit('alarm-updated', { alarm: view, change: 'raised-while-shelved', notify: false }));
    else this.record(alarm, (view) => this.announce(view));
  }

  private clear(alarm: Alarm, ts: number): void {
    if (alarm.suppressed) {
      // Never announced, so nobody has anything to acknowledge: the consequence is over.
      Object.assign(alarm, { state: 'cleared', conditionActive: false, clearedAt: ts, updatedAt: ts });
      this.close(alarm, ts);
      this.record(alarm, (view) => this.emit('alarm-suppressed', view));
      return;
    }
    alarm.state = clearedState(alarm.state);
    alarm.conditionActive = false;
    alarm.clearedAt = ts;
    alarm.updatedAt = ts;
    if (alarm.state === 'cleared') this.close(alarm, ts);
    this.record(alarm, (view) => this.emit('alarm-cleared', view));
  }

  private close(alarm: Alarm, ts: number): void {
    alarm.closedAt = ts;
    this.open.delete(alarm.id);
    if (this.openByKey.get(alarm.key) === alarm) this.openByKey.delete(alarm.key);
  }

  /** Resolves with the point's open alarm as stored, if it has one. */
  private endShelf(key: string, now: number): Promise<Alarm | undefined> {
    this.shelves.delete(key);
    const alarm = this.openByKey.get(key);
    if (!alarm) return this.writes.push(() => this.store.unshelve(key, undefined)).then(() => undefined);
    delete alarm.shelved;
    alarm.updatedAt = now;
    const store = (view: Alarm) => this.store.unshelve(key, view);
    if (alarm.suppressed) return this.commit(alarm, (view) => this.emit('alarm-suppressed', view), store);
    if (!alarm.announcedAt && isActive(alarm)) {
      alarm.announcedAt = now;
      return this.commit(alarm, (view) => this.announce(view), store);
    }
    const notify = alarm.state === 'active-unacknowledged';
    return this.commit(alarm, (view) => this.emit('alarm-updated', { alarm: view, change: 'unshelved', notify }), store);
  }

  /**
   * A suppressed alarm follows its causes: another cause in alarm takes over; once none holds and
   * the grace since the last one returned has passed, the alarm is announced (or, shelved, waits
   * for its shelf to end).
   */
  private reconsiderSuppression(alarm: Alarm, now: number): void {
    const cause = this.suppression.causeOf(alarm);
    if (cause !== undefined) {
      if (cause === alarm.suppressedBy) return;
      alarm.suppressedBy = cause;
      alarm.updatedAt = now;
      this.record(alarm, (view) => this.emit('alarm-suppressed', view));
      return;
    }
    if (now < this.suppression.releaseAt(alarm.suppressedBy!)) return;
    delete alarm.suppressed;
    alarm.updatedAt = now;
    if (alarm.shelved) {
      this.record(alarm, (view) => this.emit('alarm-updated', { alarm: view, change: 'released-while-shelved', notify: false }));
      return;
    }
    alarm.announcedAt = now;
    this.record(alarm, (view) => this.announce(view));
  }

  /** Announces an alarm, counted in the rate of alarm announcements (floods). */
  private announce(view: Alarm): void {
    this.floods.observe(view);
    this.emit('alarm-raised', view);
  }

  /** Floods are stored as they start, reach a new peak and end, in order with the alarm changes. */
  private recordFloods(): void {
    const write = (flood: Flood, end: boolean): void => {
      const row = this.floodRows.get(flood.id);
      if (!row) {
        const started = this.writes.push(() => this.store.startFlood(flood));
        started.catch((err: unknown) => this.fail(err));
        this.floodRows.set(flood.id, started);
      } else {
        this.writes.push(async () => this.store.updateFlood(await row, flood)).catch((err: unknown) => this.fail(err));
      }
      if (end) this.floodRows.delete(flood.id);
    };
    let peak = 0;
    this.floods.on('started', (f) => {
      peak = f.peak;
      write(f, false);
    });
    this.floods.on('changed', (f) => {
      if (f.peak <= peak) return;
      peak = f.peak;
      write(f, false);
    });
    this.floods.on('ended', (f) => write(f, true));
  }

  /** Refuses an action on an alarm that is not open: closed (conflict) or unknown. */
  private async refuseMissing(id: string): Promise<never> {
    if (await this.get(id)) throw new AlarmActionError('conflict', `alarm ${id} is closed (cleared and acknowledged)`);
    throw new AlarmActionError('not-found', `no alarm ${id}`);
  }

  /**
   * Stores the alarm as it is now (with `store`, by default the alarm alone), then announces it.
   * Resolves with the stored view; rejects when it could not be stored, and nothing is announced.
   */
  private commit(alarm: Alarm, announce: (view: Alarm) => void, store: (view: Alarm) => Promise<void> = (view) => this.store.saveAlarm(view)): Promise<Alarm> {
    const view = snapshot(alarm);
    return this.writes.push(
      () => store(view),
      () => announce(view),
    ).then(() => view);
  }

  /** commit() for a change nobody waits for: a failure is reported, not thrown. */
  private record(alarm: Alarm, announce: (view: Alarm) => void): void {
    this.commit(alarm, announce).catch((err: unknown) => this.fail(err));
  }

  private fail(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.log.error({ err: error }, 'alarm change not stored');
  }

  /** Remembers a trip; true when the point is now chattering. */
  private recordTrip(key: string, ts: number): boolean {
    let times = this.trips.get(key);
    if (!times) this.trips.set(key, (times = []));
    const since = ts - this.chatter.windowMs;
    let drop = 0;
    while (drop < times.length && times[drop]! <= since) drop++;
    if (drop > 0) times.splice(0, drop);
    times.push(ts);
    return times.length >= this.chatter.count || (this.openByKey.get(key)?.chattering ?? false);
  }
}

function setFacts(alarm: Alarm, facts: TripFacts): void {
  if (facts.value !== undefined) alarm.value = facts.value;
  if (facts.limit !== undefined) alarm.limit = facts.limit;
  if (facts.details !== undefined) alarm.details = facts.details;
}

function snapshot(alarm: Alarm): Alarm {
  return structuredClone(alarm);
}
