/**
 * Samples of one cumulative counter over a sliding window, thinned to about 120 per window so a
 * meter read every second costs the same memory as one read every 30 s.
 */
export class CounterWindow {
  private times: number[] = [];
  private values: number[] = [];
  private head = 0;
  /** Start of the continuous run of samples (first sample, or the last reset). */
  private since: number | undefined;
  private readonly resolutionMs: number;

  constructor(readonly windowMs: number) {
    this.resolutionMs = Math.max(1, Math.floor(windowMs / 120));
  }

  /** Adds a sample and returns how far the counter advanced from the oldest sample inside the window. */
  add(ts: number, value: number): number {
    if (this.since === undefined) this.since = ts;
    const start = ts - this.windowMs;
    while (this.head < this.times.length && this.times[this.head]! < start) this.head++;
    if (this.head > 64 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
    const n = this.times.length;
    if (n === this.head || ts - this.times[n - 1]! >= this.resolutionMs) {
      this.times.push(ts);
      this.values.push(value);
    }
    return value - this.values[this.head]!;
  }

  /** True once samples have covered a whole window since the first sample or the last reset. */
  full(ts: number): boolean {
    return this.since !== undefined && ts - this.since >= this.windowMs;
  }

  /** Forgets every sample (the counter was replaced or went backwards). */
  reset(): void {
    this.times = [];
    this.values = [];
    this.head = 0;
    this.since = undefined;
  }
}
