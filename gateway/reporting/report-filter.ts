import type { DeviceKind, Quality, Reading } from '../../common/reading.ts';
import { reportingPolicy, type ReportingPolicy } from '../../common/site/reporting.ts';
import type { DeviceConfig, SiteConfig } from '../../common/site/types.ts';
import { BatchReadings } from '../outbox/batch-codec.ts';
import type { StoreSelection } from '../store/store-selection.ts';

/** The state of one series, for callers that look it up once and admit many readings of it (admitTo). */
export interface SeriesState {
  policy: ReportingPolicy;
  /** The last stored reading of the series; ts -Infinity before the first. */
  ts: number;
  value: number | null;
  quality: Quality;
  /** The last stored value of a counter and its time, the base of the next delta. */
  counterValue: number | undefined;
  counterTs: number;
}

/**
 * `to - from` without the noise of binary subtraction (10.001 - 10 = 0.000999999999999446): meter
 * values carry at most 12 significant digits (common/register-codec.ts), so neither can their
 * difference.
 */
function increase(from: number, to: number): number {
  const integerDigits = Math.max(1, Math.ceil(Math.log10(Math.max(Math.abs(from), Math.abs(to)) + 1)));
  return Number((to - from).toFixed(Math.min(15, Math.max(0, 12 - integerDigits))));
}

/** Counts of one selection or of the filter's life. */
export interface FilterCounts {
  kept: number;
  skipped: number;
}

/**
 * Report by exception for the reading store (docs/gateway.md#report-by-exception). Decides, reading
 * by reading in outbox order, what the store keeps: a reading whose value moved past its deadband
 * since the last stored one of its series, whose quality changed, or that comes a heartbeat after
 * the last stored one; a counter's stored readings carry their increase since the one before.
 * A reading not newer than the last stored one (a replay) is kept again, without a delta.
 * The decisions depend only on the readings, never on the wall clock.
 */
export class ReportFilter {
  private devices = new Map<string, DeviceConfig>();
  private site!: SiteConfig;
  private readonly series = new Map<string, SeriesState>();
  readonly counts: FilterCounts = { kept: 0, skipped: 0 };
  /** The delta of the last reading admit() kept, or undefined. */
  delta: number | undefined;

  constructor(site: SiteConfig) {
    this.configure(site);
  }

  /** A new site file: the policies change from the next reading on; what was stored stays the base. */
  configure(site: SiteConfig): void {
    this.site = site;
    this.devices = new Map(site.devices.map((d) => [d.id, d]));
    for (const [key, s] of this.series) {
      const [, device, metric, kind] = key.split('\u0000') as [string, string, string, DeviceKind];
      s.policy = this.policyOf(device, kind, metric);
    }
  }

  /** Starts from what the store already holds (its latest reading per series), so a restart goes on where it stopped. */
  seed(latest: readonly Reading[]): void {
    for (const r of latest) {
      const s = this.state(r.building, r.device, r.kind, r.metric);
      if (r.ts <= s.ts) continue;
      s.ts = r.ts;
      s.value = r.value;
      s.quality = r.quality;
      if (r.value !== null) {
        s.counterValue = r.value;
        s.counterTs = r.ts;
      }
    }
  }

  /** Whether to store one reading; after `true`, `delta` holds its counter increase or undefined. */
  admit(building: string, device: string, kind: DeviceKind, metric: string, value: number | null, ts: number, quality: Quality): boolean {
    return this.decide(this.state(building, device, kind, metric), value, ts, quality);
  }

  /** The series of (building, device, metric) of a device kind, to pass to admitTo. */
  seriesOf(building: string, device: string, kind: DeviceKind, metric: string): SeriesState {
    return this.state(building, device, kind, metric);
  }

  /** admit() for a series looked up before. */
  admitTo(series: SeriesState, value: number | null, ts: number, quality: Quality): boolean {
    return this.decide(series, value, ts, quality);
  }

  /** The selection of one encoded outbox batch (gateway/outbox/batch-codec.ts). */
  select(payload: Buffer): StoreSelection {
    const c = new BatchReadings(payload);
    const keep = new Uint8Array(c.count);
    const deltas = new Map<number, number>();
    const s = c.strings;
    const n = s.length;
    const local = new Map<number, SeriesState>();
    for (let i = 0; c.next(); i++) {
      const k = (c.building * n + c.device) * n + c.metric;
      let state = local.get(k);
      if (!state) {
        state = this.state(s[c.building]!, s[c.device]!, s[c.kind] as DeviceKind, s[c.metric]!);
        local.set(k, state);
      }
      if (this.decide(state, c.value, c.ts, c.quality)) {
        keep[i] = 1;
        if (this.delta !== undefined) deltas.set(i, this.delta);
      }
    }
    return { keep, deltas };
  }

  private decide(s: SeriesState, value: number | null, ts: number, quality: Quality): boolean {
    this.delta = undefined;
    if (ts <= s.ts) {
      this.counts.kept++;
      return true;
    }
    const p = s.policy;
    const store =
      s.ts === Number.NEGATIVE_INFINITY ||
      quality !== s.quality ||
      ts - s.ts >= p.heartbeatMs ||
      (value !== null && (s.value === null || Math.abs(value - s.value) > (p.percent ? (p.deadband / 100) * Math.abs(s.value) : p.deadband)));
    if (!store) {
      this.counts.skipped++;
      return false;
    }
    this.counts.kept++;
    s.ts = ts;
    s.value = value;
    s.quality = quality;
    if (p.counter && value !== null) {
      // A counter that goes down (a replaced meter) counts as no consumption; the rules report it.
      if (s.counterValue !== undefined && ts > s.counterTs) this.delta = value >= s.counterValue ? increase(s.counterValue, value) : 0;
      s.counterValue = value;
      s.counterTs = ts;
    }
    return true;
  }

  private state(building: string, device: string, kind: DeviceKind, metric: string): SeriesState {
    const key = building + '\u0000' + device + '\u0000' + metric + '\u0000' + kind;
    let s = this.series.get(key);
    if (!s) {
      s = { policy: this.policyOf(device, kind, metric), ts: Number.NEGATIVE_INFINITY, value: null, quality: 'good', counterValue: undefined, counterTs: Number.NEGATIVE_INFINITY };
      this.series.set(key, s);
    }
    return s;
  }

  private policyOf(device: string, kind: DeviceKind, metric: string): ReportingPolicy {
    return reportingPolicy(this.site.reporting, this.devices.get(device), kind, metric);
  }
}
