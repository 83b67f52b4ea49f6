import { EventEmitter } from 'node:events';
import type { Logger } from '../../common/logger.ts';
import type { MetricsRegistry } from '../../common/metrics.ts';
import type { GatewayStorageStatus } from '../../common/topics.ts';
import { systemClock, type Clock } from '../clock.ts';
import { ReportLimiter } from '../report-limiter.ts';

const DAY = 86_400_000;

/** One measurement of the bytes used. */
export interface UsageSample {
  ts: number;
  bytes: number;
}

/**
 * Bytes per day by least squares over the samples, which smooths the saw-tooth of compactions
 * and write-ahead logs; undefined until the samples span at least `minSpanMs`.
 */
export function growthPerDay(samples: readonly UsageSample[], minSpanMs = 60_000): number | undefined {
  if (samples.length < 2) return undefined;
  const t0 = samples[0]!.ts;
  if (samples.at(-1)!.ts - t0 < minSpanMs) return undefined;
  let st = 0;
  let sb = 0;
  for (const s of samples) {
    st += s.ts - t0;
    sb += s.bytes;
  }
  const mt = st / samples.length;
  const mb = sb / samples.length;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    const dt = s.ts - t0 - mt;
    num += dt * (s.bytes - mb);
    den += dt * dt;
  }
  return den === 0 ? undefined : (num / den) * DAY;
}

export interface DiskBudgetOptions {
  /** Bytes of the reading store on disk. */
  storeBytes: () => Promise<number>;
  /** Bytes of the outbox's segment files. */
  outboxBytes: () => number;
  storeBudgetBytes: number;
  outboxBudgetBytes: number;
  /** Between samples. Default 60 s. */
  intervalMs?: number;
  /** Samples this old no longer count for the growth. Default one day. */
  windowMs?: number;
  clock?: Clock;
  metrics: MetricsRegistry;
  logger?: Logger;
}

export interface DiskBudgetEvents {
  status: [GatewayStorageStatus];
  error: [Error];
}

/**
 * The disk budget of the reading store and the outbox (docs/gateway.md#disk-budget): samples the
 * bytes they use, estimates the growth per day and the days until the budget is full, and shows
 * them in /metrics and as `status` events (the gateway's upstream status carries them).
 */
export class DiskBudget extends EventEmitter<DiskBudgetEvents> {
  private readonly samples: UsageSample[] = [];
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly windowMs: number;
  private readonly abort = new AbortController();
  private readonly errors = new ReportLimiter(60_000);
  private loop: Promise<void> | undefined;
  private last: GatewayStorageStatus | undefined;
  private readonly m;

  constructor(private readonly options: DiskBudgetOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.intervalMs = options.intervalMs ?? 60_000;
    this.windowMs = options.windowMs ?? DAY;
    const { metrics } = options;
    this.m = {
      used: metrics.gauge('fm_storage_used_bytes', 'Bytes the reading store and the outbox take on disk'),
      budget: metrics.gauge('fm_storage_budget_bytes', 'Disk budget of the reading store and the outbox'),
      ratio: metrics.gauge('fm_storage_budget_used_ratio', 'Share of the disk budget used, store and outbox together'),
      growth: metrics.gauge('fm_storage_growth_bytes_per_day', 'Growth of the bytes used, over the last day of samples'),
      days: metrics.gauge('fm_storage_days_until_full', 'Days until the budget is full at that growth (+Inf when not growing)'),
      errors: metrics.counter('fm_storage_sample_errors_total', 'Samples of the bytes used that failed'),
    };
    this.m.budget.set(options.storeBudgetBytes, { part: 'store' });
    this.m.budget.set(options.outboxBudgetBytes, { part: 'outbox' });
  }

  /** The last status measured. */
  get status(): GatewayStorageStatus | undefined {
    return this.last;
  }

  /** Samples now and then every `intervalMs` until stop(). */
  start(): void {
    this.loop ??= (async () => {
      do await this.sample();
      while (await this.clock.sleep(this.intervalMs, this.abort.signal));
    })();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** Measures once; never throws (a failure is counted and reported as an `error` event). */
  async sample(): Promise<GatewayStorageStatus | undefined> {
    let storeBytes: number;
    try {
      storeBytes = await this.options.storeBytes();
    } catch (err) {
      this.m.errors.inc();
      const held = this.errors.take(this.clock.now());
      if (held !== undefined && this.listenerCount('error') > 0) {
        this.emit('error', new Error(`reading store size unknown${held ? ` (${held} more failures)` : ''}: ${(err as Error).message}`));
      }
      return undefined;
    }
    const ts = this.clock.now();
    const outboxBytes = this.options.outboxBytes();
    const usedBytes = storeBytes + outboxBytes;
    const budgetBytes = this.options.storeBudgetBytes + this.options.outboxBudgetBytes;
    this.samples.push({ ts, bytes: usedBytes });
    while (this.samples.length > 0 && this.samples[0]!.ts < ts - this.windowMs) this.samples.shift();
    const growth = growthPerDay(this.samples, this.intervalMs);
    const daysUntilFull = usedBytes >= budgetBytes ? 0 : growth !== undefined && growth > 0 ? (budgetBytes - usedBytes) / growth : null;
    const status: GatewayStorageStatus = {
      ts,
      budgetBytes,
      usedBytes,
      usedRatio: usedBytes / budgetBytes,
      growthBytesPerDay: growth === undefined ? null : Math.round(growth),
      daysUntilFull: daysUntilFull === null ? null : Math.round(daysUntilFull * 10) / 10,
      store: { usedBytes: storeBytes, budgetBytes: this.options.storeBudgetBytes },
      outbox: { usedBytes: outboxBytes, budgetBytes: this.options.outboxBudgetBytes },
    };
    this.m.used.set(storeBytes, { part: 'store' });
    this.m.used.set(outboxBytes, { part: 'outbox' });
    this.m.ratio.set(status.usedRatio);
    if (growth !== undefined) this.m.growth.set(status.growthBytesPerDay!);
    this.m.days.set(status.daysUntilFull ?? Number.POSITIVE_INFINITY);
    this.last = status;
    this.emit('status', status);
    return status;
  }
}
