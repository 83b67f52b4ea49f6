import type { Logger } from '../../common/logger.ts';

/** The first refusals of each kind are logged; more would let one misbehaving client flood the log. */
const LOGGED_KEYS = 10_000;

/**
 * Refusals counted by what and why (for /metrics), each distinct one (what, reason, who) logged
 * once: a gateway that retries a refused message every second is one log line, not thousands.
 */
export class RefusalLog {
  private readonly counts = new Map<string, { what: string; reason: string; n: number }>();
  private readonly logged = new Set<string>();

  constructor(private readonly logger: Logger | undefined) {}

  refuse(what: string, reason: string, who: string, details: Record<string, unknown>, message: string): void {
    const key = `${what}|${reason}`;
    const c = this.counts.get(key);
    if (c) c.n++;
    else this.counts.set(key, { what, reason, n: 1 });
    const logKey = `${key}|${who}`;
    if (this.logged.has(logKey) || this.logged.size >= LOGGED_KEYS) return;
    this.logged.add(logKey);
    this.logger?.warn({ what, reason, client: who, ...details }, `${message} (further refusals of this kind from this client are only counted)`);
  }

  /** Counts by what and reason. */
  entries(): { what: string; reason: string; n: number }[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  total(what: string): number {
    let n = 0;
    for (const c of this.counts.values()) if (c.what === what) n += c.n;
    return n;
  }
}
