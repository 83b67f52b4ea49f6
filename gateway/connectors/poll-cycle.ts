import { performance } from 'node:perf_hooks';

/**
 * The poll loop of one line (a Modbus connection, a DL/T 645 bus): `run` reads its devices in
 * turn, once per cycle. A cycle still running when the next is due is not doubled: the tick is
 * skipped and counted as an overrun. stop() waits for the cycle in progress.
 */
export class PollCycle {
  cycles = 0;
  overruns = 0;
  lastCycleMs = 0;
  lastCycleEndedAt = 0;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    /** One cycle; `cycle` counts from 1. Must not throw: a device's failure is the device's, not the loop's. */
    private readonly run: (cycle: number) => Promise<void>,
    private readonly hooks: { overrun?: () => void; cycleEnded?: (ms: number) => void } = {},
  ) {}

  /** True once stop() was called: a cycle in progress ends after the request on the wire. */
  get stopped(): boolean {
    return this.stopping;
  }

  /** Starts a cycle unless one is still running (then counts an overrun and returns that one). */
  tick(): Promise<void> {
    if (this.running) {
      this.overruns++;
      this.hooks.overrun?.();
      return this.running;
    }
    this.running = this.cycle().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** A cycle now, then one every `intervalMs`. */
  start(intervalMs: number): void {
    this.stopping = false;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), intervalMs);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async cycle(): Promise<void> {
    const started = performance.now();
    await this.run(++this.cycles);
    this.lastCycleMs = performance.now() - started;
    this.lastCycleEndedAt = Date.now();
    this.hooks.cycleEnded?.(this.lastCycleMs);
  }
}
