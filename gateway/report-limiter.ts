/** Lets one report through per interval and counts the ones it held back, so a flood of failures logs a line, not a line each. */
export class ReportLimiter {
  private last = Number.NEGATIVE_INFINITY;
  private held = 0;

  constructor(private readonly intervalMs: number) {}

  /** The number of reports held back since the last one let through, or undefined when this one is held back. */
  take(now = Date.now()): number | undefined {
    if (now - this.last < this.intervalMs) {
      this.held++;
      return undefined;
    }
    this.last = now;
    const held = this.held;
    this.held = 0;
    return held;
  }
}
