/**
 * Collects keys marked within `windowMs` and hands them over at most once per window, so a device
 * reporting 100 times a second costs one delta per window, not 100. A mark after a quiet window
 * is handed over after `gatherMs` (what arrives together leaves together) rather than a whole
 * window later.
 */
export class Coalescer<K, V> {
  private pending = new Map<K, V>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastRun = -Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly flush: (batch: Map<K, V>) => void,
    private readonly gatherMs = Math.min(10, windowMs),
    private readonly now: () => number = () => performance.now(),
  ) {}

  mark(key: K, value: V): void {
    if (this.closed) return;
    this.pending.set(key, value);
    if (this.timer) return;
    const wait = Math.max(this.gatherMs, this.lastRun + this.windowMs - this.now());
    this.timer = setTimeout(() => this.run(), wait);
    this.timer.unref();
  }

  /** Hands over what is pending now. */
  run(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.lastRun = this.now();
    this.flush(batch);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
