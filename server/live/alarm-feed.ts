import { EventEmitter } from 'node:events';
import type { Alarm } from '../alarms/alarm.ts';
import type { AlarmEvents, AlarmService, AlarmUpdate } from '../alarms/alarm-service.ts';
import type { Flood } from '../alarms/flood-monitor.ts';

/** The summary of a flood on the dashboard feed: alarm-shaped, never stored, with the alarms it groups. */
export interface FloodSummary extends Omit<Alarm, 'kind'> {
  kind: 'estate';
  flood: { count: number; children: string[]; since: number; peak: number };
}

/** What the dashboard feed says of alarms: the alarm service's events, with floods grouped. */
export type AlarmFeedEvents = Pick<AlarmEvents, 'alarm-raised' | 'alarm-cleared' | 'alarm-updated'>;

/** Longest wait before a flood's summary shows the alarms grouped into it since it was last sent. */
const SUMMARY_EVERY_MS = 1000;

/**
 * The alarms as the duty room's dashboards get them (docs/sockets.md). During an alarm flood
 * (docs/rules.md) a non-critical alarm is not announced with `alarm-raised`: it comes as an
 * `alarm-updated` (`change: 'grouped'`) flagged `suppressed` by the flood, and the flood's summary
 * (an alarm-shaped `FloodSummary`) counts it. Critical alarms pass as they are. When the flood
 * ends its summary is cleared and the grouped alarms still open come back as they are
 * (`change: 'ungrouped'`), without being announced again.
 */
export class AlarmFeed extends EventEmitter<AlarmFeedEvents> {
  private readonly unsubscribe: (() => void)[] = [];
  private summaryTimer: NodeJS.Timeout | undefined;
  /** Ids grouped during the flood going on: the floods monitor forgets them at its end, the feed must ungroup them then. */
  private readonly wasGrouped = new Set<string>();

  constructor(
    private readonly alarms: AlarmService,
    private readonly estate: { id: string },
  ) {
    super();
    const { floods } = alarms;
    const raised = (alarm: Alarm): void => {
      if (floods.isGrouped(alarm.id)) {
        this.emit('alarm-updated', { alarm: this.grouped(alarm), change: 'grouped', notify: false });
        this.summaryChanged();
      } else {
        this.emit('alarm-raised', alarm);
      }
    };
    const cleared = (alarm: Alarm): void => void this.emit('alarm-cleared', this.view(alarm));
    const updated = (u: AlarmUpdate): void => void this.emit('alarm-updated', { ...u, alarm: this.view(u.alarm) });
    const started = (flood: Flood): void => void this.emit('alarm-raised', this.summary(flood) as unknown as Alarm);
    const ended = (flood: Flood): void => {
      clearTimeout(this.summaryTimer);
      this.summaryTimer = undefined;
      const summary = this.summary(flood, []);
      this.emit('alarm-cleared', { ...summary, state: 'cleared', conditionActive: false, clearedAt: flood.endedAt!, closedAt: flood.endedAt!, updatedAt: flood.endedAt! } as unknown as Alarm);
      for (const alarm of this.alarms.listActive()) if (this.wasGrouped.has(alarm.id)) this.emit('alarm-updated', { alarm, change: 'ungrouped', notify: false });
      this.wasGrouped.clear();
    };
    alarms.on('alarm-raised', raised);
    alarms.on('alarm-cleared', cleared);
    alarms.on('alarm-updated', updated);
    floods.on('started', started);
    floods.on('ended', ended);
    this.unsubscribe.push(
      () => void alarms.off('alarm-raised', raised),
      () => void alarms.off('alarm-cleared', cleared),
      () => void alarms.off('alarm-updated', updated),
      () => void floods.off('started', started),
      () => void floods.off('ended', ended),
    );
  }

  /** Open alarms as the dashboards see them: grouped ones flagged, and the summary of a flood going on. */
  listActive(): Alarm[] {
    const list = this.alarms.listActive().map((a) => this.view(a));
    const flood = this.alarms.floods.current;
    if (flood) list.unshift(this.summary(flood) as unknown as Alarm);
    return list;
  }

  close(): void {
    clearTimeout(this.summaryTimer);
    for (const off of this.unsubscribe.splice(0)) off();
    this.removeAllListeners();
  }

  private view(alarm: Alarm): Alarm {
    return this.alarms.floods.isGrouped(alarm.id) ? this.grouped(alarm) : alarm;
  }

  private grouped(alarm: Alarm): Alarm {
    this.wasGrouped.add(alarm.id);
    return { ...alarm, suppressed: true, suppressedBy: this.alarms.floods.current!.id };
  }

  private summaryChanged(): void {
    if (this.summaryTimer) return;
    this.summaryTimer = setTimeout(() => {
      this.summaryTimer = undefined;
      const flood = this.alarms.floods.current;
      if (flood) this.emit('alarm-updated', { alarm: this.summary(flood) as unknown as Alarm, change: 'flood', notify: false });
    }, SUMMARY_EVERY_MS);
    this.summaryTimer.unref();
  }

  private summary(flood: Flood, children = this.alarms.floods.groupedIds()): FloodSummary {
    const minutes = Math.round(this.alarms.floods.policy.windowMs / 60_000);
    const at = flood.endedAt ?? flood.startedAt;
    return {
      id: flood.id,
      key: `${this.estate.id}/alarm-flood`,
      ruleId: 'alarm-flood',
      ruleType: 'flood',
      device: this.estate.id,
      building: this.estate.id,
      kind: 'estate',
      category: 'general',
      severity: 'high',
      title: {
        en: `Alarm flood: more than ${this.alarms.floods.policy.limit} alarms in ${minutes} minutes; ${flood.grouped} grouped here`,
        zh: `报警泛滥：${minutes} 分钟内超过 ${this.alarms.floods.policy.limit} 条报警；已归并 ${flood.grouped} 条`,
      },
      state: 'active-unacknowledged',
      conditionActive: true,
      raisedAt: flood.startedAt,
      announcedAt: flood.startedAt,
      lastTripAt: flood.startedAt,
      updatedAt: at,
      occurrences: flood.alarms,
      chattering: false,
      flood: { count: flood.grouped, children, since: flood.startedAt, peak: flood.peak },
    };
  }
}
