import type { EventEmitter } from 'node:events';
import type { Logger } from '../../common/logger.ts';
import type { Alarm } from '../alarms/alarm.ts';
import type { AlarmEvents, AlarmUpdate } from '../alarms/alarm-service.ts';
import type { OrderedWrites } from '../records/ordered-writes.ts';
import { WORK_ORDER_TEXT_MAX, type AlarmInput, type WorkOrderChange } from '../work-orders/types.ts';

/** What the link needs of WorkOrderService. */
export interface AlarmWorkOrderSink {
  raiseFromAlarm(input: AlarmInput): Promise<WorkOrderChange & { created: boolean }>;
}

export interface AlarmWorkOrderCounters {
  created: number;
  occurrences: number;
  failed: number;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function title(alarm: Alarm): string {
  const { zh, en } = alarm.title;
  return cut(zh === en ? en : `${zh} / ${en}`, WORK_ORDER_TEXT_MAX.title);
}

function detail(alarm: Alarm, at: number): string {
  const lines = [`Alarm ${alarm.id} (${alarm.ruleId}) on ${alarm.device}, ${new Date(at).toISOString()}`];
  if (alarm.instance !== undefined) lines.push(`instance: ${alarm.instance}`);
  if (alarm.value !== undefined) lines.push(`value: ${alarm.value}${alarm.limit !== undefined ? ` (limit ${alarm.limit})` : ''}`);
  for (const [k, v] of Object.entries(alarm.details ?? {})) lines.push(`${k}: ${String(v)}`);
  if (alarm.chattering) lines.push('chattering: the alarm trips repeatedly');
  return cut(lines.join('\n'), WORK_ORDER_TEXT_MAX.detail);
}

/** The work-order request for an alarm: one per alarm point (device, rule, instance) while the work order is not closed. */
export function workOrderForAlarm(alarm: Alarm, at: number): AlarmInput {
  const input: AlarmInput = {
    deviceId: alarm.device,
    building: alarm.building,
    ruleId: alarm.ruleId,
    // Alarm categories are a subset of work-order categories; severities and priorities share names.
    category: alarm.category,
    priority: alarm.severity,
    title: title(alarm),
    detail: detail(alarm, at),
    at,
  };
  if (alarm.unit !== undefined) input.unit = alarm.unit;
  if (alarm.instance !== undefined) input.instance = alarm.instance;
  return input;
}

/**
 * Work orders open by themselves (docs/domain.md, "Who uses it"): an announced alarm raises one, a
 * repeat of its alarm adds an occurrence to it. A chattering alarm adds one occurrence when it
 * starts chattering and none for each trip after, so a flapping input cannot flood the records.
 * The work order is written through the alarms' queue, after the alarm that raised it, so whoever
 * waits for the alarms to settle waits for it too. Failures are counted and logged; alarms carry
 * on. Returns the unsubscribe function.
 */
export function linkAlarmsToWorkOrders(
  alarms: Pick<EventEmitter<AlarmEvents>, 'on' | 'off'> & { writes: OrderedWrites },
  workOrders: AlarmWorkOrderSink,
  options: { logger: Logger; counters?: AlarmWorkOrderCounters; onRaised?: (alarm: Alarm, change: WorkOrderChange & { created: boolean }) => void },
): () => void {
  const counters = options.counters ?? { created: 0, occurrences: 0, failed: 0 };
  const raise = (alarm: Alarm, at: number): void => {
    alarms.writes
      .push(
        () => workOrders.raiseFromAlarm(workOrderForAlarm(alarm, at)),
        (change) => {
          if (change.created) counters.created++;
          else counters.occurrences++;
          options.onRaised?.(alarm, change);
        },
      )
      .catch((err: unknown) => {
        counters.failed++;
        options.logger.error({ err, alarm: alarm.id, device: alarm.device, rule: alarm.ruleId }, 'work order for alarm not recorded');
      });
  };
  // Dated when announced: an alarm held back (shelved, suppressed by its cause) becomes work then.
  const onRaised = (alarm: Alarm): void => raise(alarm, alarm.announcedAt ?? alarm.lastTripAt);
  const onUpdated = ({ alarm, change }: AlarmUpdate): void => {
    if (alarm.shelved) return;
    if (change === 'chattering' || (change === 'retripped' && !alarm.chattering)) raise(alarm, alarm.lastTripAt);
  };
  alarms.on('alarm-raised', onRaised);
  alarms.on('alarm-updated', onUpdated);
  return () => {
    alarms.off('alarm-raised', onRaised);
    alarms.off('alarm-updated', onUpdated);
  };
}
