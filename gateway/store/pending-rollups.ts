import { readFile, rm } from 'node:fs/promises';
import type { Logger } from '../../common/logger.ts';
import { systemClock, type Clock } from '../clock.ts';
import { replaceFile } from '../replace-file.ts';
import { rollupSteps, type RollupLevel } from './influx-rollups.ts';

export interface PendingRollupsOptions {
  /** Runs one rollup statement over whole windows of `level` from `from` to `to`. */
  run: (level: RollupLevel, from: number, to: number) => Promise<void>;
  /** Where the span still to roll up is kept across restarts (`DATA_DIR/rollups-pending.json`); unset: in memory only. */
  file?: string | undefined;
  clock?: Clock;
  logger?: Logger | undefined;
  /** A statement that has not answered by then counts as failed and is retried. Default 5 minutes. */
  statementTimeoutMs?: number;
  /** stop() waits this long for the statement in progress. Default 5 s. */
  stopWaitMs?: number;
}

interface Span {
  first: number;
  last: number;
}

function union(a: Span | undefined, b: Span | undefined): Span | undefined {
  if (!a || !b) return a ?? b;
  return { first: Math.min(a.first, b.first), last: Math.max(a.last, b.last) };
}

/**
 * The readings InfluxDB got too late for its continuous queries, still to be rolled up by the
 * gateway (docs/gateway.md#rollups). A write only records their span (on disk, before the write is
 * acknowledged) and returns; the span is rolled up in the background, a day at a time, spans
 * recorded meanwhile merged into the next run. A span survives a restart in `file`, and a run that
 * fails or hangs is retried (1 s, doubling to 30 s) until it succeeds.
 */
export class PendingRollups {
  private pending: Span | undefined;
  /** The span of the run in progress: on disk until the run is done. */
  private inProgress: Span | undefined;
  private saved: string | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private readonly clock: Clock;

  constructor(private readonly options: PendingRollupsOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Picks up what a previous run of the gateway left to roll up. */
  async load(): Promise<void> {
    if (!this.options.file) return;
    let text: string;
    try {
      text = await readFile(this.options.file, 'utf8');
    } catch {
      return;
    }
    try {
      const span = JSON.parse(text) as Span;
      if (Number.isFinite(span.first) && Number.isFinite(span.last)) await this.add(span.first, span.last);
    } catch (err) {
      this.options.logger?.warn({ file: this.options.file, err: (err as Error).message }, 'unreadable pending rollups ignored');
    }
  }

  /** Records readings from `first` to `last` to roll up; resolves once the record is durable. */
  async add(first: number, last: number): Promise<void> {
    this.pending = union(this.pending, { first, last });
    await this.save();
    this.running ??= this.drain();
  }

  /** Resolves true once nothing is left to roll up, false when stopped before. */
  idle(): Promise<boolean> {
    if (!this.pending && !this.running) return Promise.resolve(true);
    return new Promise((resolve) => this.idleWaiters.push(() => resolve(!this.pending && !this.running)));
  }

  /** Stops after the statement in progress; what is left stays in the file for the next start. */
  async stop(): Promise<void> {
    this.abort.abort();
    // An HTTP request can hang past its timeout when InfluxDB dies under it: the span is on disk anyway.
    const wait = new AbortController();
    await Promise.race([this.running, this.clock.sleep(this.options.stopWaitMs ?? 5_000, wait.signal)]);
    wait.abort();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async drain(): Promise<void> {
    let failures = 0;
    while (this.pending && !this.abort.signal.aborted) {
      const span = this.pending;
      this.pending = undefined;
      this.inProgress = span;
      try {
        for (const step of rollupSteps(span.first, span.last)) {
          if (this.abort.signal.aborted) throw new Error('stopped');
          await this.statement(step.level, step.from, step.to);
        }
        failures = 0;
        this.inProgress = undefined;
      } catch (err) {
        // Put the span back (with what came meanwhile) and try again.
        this.pending = union(this.pending, span);
        this.inProgress = undefined;
        if (this.abort.signal.aborted) break;
        failures++;
        this.options.logger?.warn({ err: (err as Error).message, failures }, 'rolling up late readings failed; retrying');
        await this.clock.sleep(Math.min(30_000, 1000 * 2 ** (failures - 1)), this.abort.signal);
        continue;
      }
      await this.save().catch((err: unknown) => this.options.logger?.warn({ err: (err as Error).message }, 'pending rollups not saved'));
    }
    this.running = undefined;
    if (!this.pending) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** One statement, failed after statementTimeoutMs if InfluxDB never answers. */
  private async statement(level: RollupLevel, from: number, to: number): Promise<void> {
    const timeoutMs = this.options.statementTimeoutMs ?? 300_000;
    const timer = new AbortController();
    const timedOut = this.clock.sleep(timeoutMs, timer.signal).then((fired) => {
      if (fired) throw new Error(`no answer within ${timeoutMs} ms`);
    });
    try {
      await Promise.race([this.options.run(level, from, to), timedOut]);
    } finally {
      timer.abort();
    }
  }

  /** Writes the pending span, or removes the file once nothing is pending; only when it changed. */
  private async save(): Promise<void> {
    const file = this.options.file;
    if (!file) return;
    const span = union(this.pending, this.inProgress);
    const text = span ? JSON.stringify(span) : undefined;
    if (text === this.saved) return;
    if (text === undefined) await rm(file, { force: true });
    else await replaceFile(file, text);
    this.saved = text;
  }
}
