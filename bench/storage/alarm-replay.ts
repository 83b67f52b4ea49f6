import type { DeviceEvent, Reading } from '../../common/reading.ts';
import type { SiteConfig } from '../../common/site/types.ts';
import { ReadingStream } from '../../devices/reading-stream.ts';
import { ReportFilter } from '../../gateway/reporting/report-filter.ts';
import { AlarmRepository } from '../../server/records/alarm-repository.ts';
import { openSqliteRecords } from '../../server/records/sqlite/sqlite-client.ts';
import { RulesEngine } from '../../server/rules/rules-engine.ts';

const MINUTE = 60_000;

/** Faults started on the estate during the replay, minutes after its start. */
export const FAULTS: { atMinute: number; scenario: string }[] = [
  { atMinute: 5, scenario: 'tank-leak' },
  { atMinute: 20, scenario: 'custody-leak' },
  { atMinute: 35, scenario: 'fire-alarm' },
  { atMinute: 40, scenario: 'door-forced' },
  { atMinute: 45, scenario: 'emergency' },
  { atMinute: 50, scenario: 'device-offline' },
];

export interface AlarmComparison {
  minutes: number;
  /** Alarms the demo rules raise on every reading (what the gateway sends upstream). */
  unfiltered: string[];
  /** Alarms they raise on the readings report by exception keeps (what the store holds). */
  stored: string[];
  /** Raised on every reading but not on the stored ones (offline rules left aside). */
  lost: string[];
  /** Raised on the stored readings only, offline rules left aside. */
  extra: string[];
  /** Largest difference in raise time between the two, for the alarms raised on both (offline rules left aside), ms. */
  maxRaiseDelayMs: number;
  /** device-offline alarms the stored readings alone would raise: quiet series look silent. */
  offlineOnStoredOnly: number;
}

interface Replay {
  engine: RulesEngine;
  raised: Map<string, number>;
  now: number;
}

function replay(site: SiteConfig, start: number): Replay {
  const state: Replay = { engine: undefined as unknown as RulesEngine, raised: new Map(), now: start };
  state.engine = new RulesEngine({ site, store: new AlarmRepository(openSqliteRecords(':memory:')), clock: () => state.now });
  state.engine.on('alarm-raised', (a) => {
    if (!state.raised.has(a.key)) state.raised.set(a.key, a.raisedAt);
  });
  state.engine.on('error', (err) => {
    throw err;
  });
  return state;
}

function feed(r: Replay, ts: number, readings: readonly Reading[], events: readonly DeviceEvent[]): void {
  r.now = ts;
  r.engine.tick(ts);
  for (const e of events) r.engine.onEvent(e);
  for (const x of readings) r.engine.onReading(x);
}

/**
 * The demo rules (server/rules) over the same simulated estate twice: once on every reading, as
 * the gateway sends them upstream, once on the readings report by exception keeps in the store.
 * Faults of devices/scenarios.ts start along the way, so that every rule type has alarms to raise.
 */
export async function compareAlarms(site: SiteConfig, start: number, minutes: number): Promise<AlarmComparison> {
  const stream = new ReadingStream({ site, from: start });
  const filter = new ReportFilter(site);
  const everything = replay(site, start);
  const stored = replay(site, start);
  const poll = site.gateway.pollIntervalMs;
  const faults = [...FAULTS];
  for (let t = poll; t <= minutes * MINUTE; t += poll) {
    while (faults.length > 0 && faults[0]!.atMinute * MINUTE <= t) await stream.scenario(faults.shift()!.scenario);
    const step = await stream.step(poll);
    const kept = step.readings.filter((r) => filter.admit(r.building, r.device, r.kind, r.metric, r.value, r.ts, r.quality));
    feed(everything, step.ts, step.readings, step.events);
    feed(stored, step.ts, kept, step.events);
  }
  const isOffline = (key: string) => key.split('/')[1] === 'device-offline';
  const a = [...everything.raised.keys()].sort();
  const b = [...stored.raised.keys()].sort();
  const both = a.filter((k) => stored.raised.has(k) && !isOffline(k));
  return {
    minutes,
    unfiltered: a,
    stored: b,
    lost: a.filter((k) => !stored.raised.has(k) && !isOffline(k)),
    extra: b.filter((k) => !everything.raised.has(k) && !isOffline(k)),
    maxRaiseDelayMs: Math.max(0, ...both.map((k) => Math.abs(stored.raised.get(k)! - everything.raised.get(k)!))),
    offlineOnStoredOnly: b.filter((k) => isOffline(k) && !everything.raised.has(k)).length,
  };
}
