/** Where the simulation takes its time from: the wall clock, or a clock that tests move by hand. */
export interface Clock {
  now(): number;
}

export const wallClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to, so tests can run days of simulated time in milliseconds. */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.UTC(2025, 0, 6, 0, 0, 0)) {}

  now(): number {
    return this.ms;
  }

  advance(ms: number): number {
    if (ms < 0) throw new RangeError('a clock cannot go backwards');
    this.ms += ms;
    return this.ms;
  }

  set(ms: number): void {
    if (ms < this.ms) throw new RangeError('a clock cannot go backwards');
    this.ms = ms;
  }
}
