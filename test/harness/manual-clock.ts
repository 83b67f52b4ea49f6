import type { Clock } from '../../gateway/clock.ts';

interface Timer {
  due: number;
  resolve: (fired: boolean) => void;
}

/** A clock that moves only when the test says so; its pending sleeps are visible. */
export class ManualClock implements Clock {
  private time: number;
  private readonly timers = new Set<Timer>();
  /** Sleeps asked for so far. */
  sleeps = 0;

  constructor(start = Date.UTC(2024, 10, 23, 8, 0, 0)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    this.sleeps++;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer: Timer = {
        due: this.time + ms,
        resolve: (fired) => {
          this.timers.delete(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(fired);
        },
      };
      const onAbort = (): void => timer.resolve(false);
      this.timers.add(timer);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** When the pending sleeps end, soonest first. */
  get pending(): number[] {
    return [...this.timers].map((t) => t.due).sort((a, b) => a - b);
  }

  /** Moves time on and ends the sleeps that are due. */
  advance(ms: number): void {
    this.time += ms;
    for (const t of [...this.timers]) if (t.due <= this.time) t.resolve(true);
  }
}
