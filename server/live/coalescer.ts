/**
 * Collects keys marked within `windowMs` and hands them over once per window, so a device
 * reporting 100 times a second costs one delta per window, not 100.
 */
export class Coalescer<K, V> {
  private pending = new Map<K, V>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly windowMs: number,
    private readonly flush: (batch: Map<K, V>) => void,
  ) {}

  mark(key: K, value: V): void {
    if (this.closed) return;
    this.pending.set(key, value);
    if (this.timer) return;
    this.timer = setTimeout(() => this.run(), this.windowMs);
    this.timer.unref();
  }

  /** Hands over what is pending now. */
  run(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flush(batch);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
