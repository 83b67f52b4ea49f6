import type { RulesEngine } from './rules-engine.ts';

export interface TickSchedulerOptions {
  /** Longest sleep between two ticks (default 250 ms). */
  intervalMs?: number;
  clock?: () => number;
}

export interface TickScheduler {
  stop(): void;
}

/**
 * Calls engine.tick() at least every `intervalMs`, and exactly at the next due time when that is
 * sooner, so an on-delay raises when its `for` ends rather than up to one interval later.
 */
export function scheduleTicks(engine: RulesEngine, options: TickSchedulerOptions = {}): TickScheduler {
  const intervalMs = options.intervalMs ?? 250;
  const clock = options.clock ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let planned = Infinity;
  let stopped = false;

  const plan = (at: number): void => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    planned = at;
    timer = setTimeout(run, Math.max(0, at - clock()));
    timer.unref();
  };
  const run = (): void => {
    timer = undefined;
    const now = clock();
    engine.tick(now);
    plan(Math.min(now + intervalMs, engine.nextDue() ?? Infinity));
  };
  const onDue = (due: number): void => {
    if (due < planned) plan(due);
  };

  engine.on('due', onDue);
  plan(clock() + Math.min(intervalMs, Math.max(0, (engine.nextDue() ?? Infinity) - clock())));
  return {
    stop() {
      stopped = true;
      engine.off('due', onDue);
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
