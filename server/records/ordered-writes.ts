/**
 * Record writes of a component that decides synchronously (the rules engine, the alarm service),
 * run one after another in the order they were asked for, each followed by what may only happen
 * once it is stored (an announcement). A failed write skips its announcement and does not hold
 * back the writes after it.
 */
export class OrderedWrites {
  private tail: Promise<unknown> = Promise.resolve();

  /** Queues `write`, then `after` with its result. Resolves after both; rejects with the write's (or `after`'s) error. */
  push<T>(write: () => Promise<T>, after?: (result: T) => void): Promise<T> {
    const done = this.tail.then(write).then((result) => {
      after?.(result);
      return result;
    });
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** Resolves once every write queued so far, and whatever those queued in turn, is done. Never rejects. */
  async settled(): Promise<void> {
    for (let tail = this.tail; ; tail = this.tail) {
      await tail;
      if (tail === this.tail) return;
    }
  }
}
