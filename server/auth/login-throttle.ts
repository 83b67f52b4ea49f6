/** How failed logins slow down further attempts of one username from one address. */
export interface LoginBackoff {
  /** Failures allowed before each further attempt waits. */
  freeFailures: number;
  /** The first wait; it doubles with every further failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A pair quiet this long starts again from nothing. */
  forgetAfterMs: number;
}

export const DEFAULT_LOGIN_BACKOFF: LoginBackoff = { freeFailures: 5, baseDelayMs: 1_000, maxDelayMs: 15 * 60_000, forgetAfterMs: 60 * 60_000 };

/** Bounds the memory an attacker can fill with distinct pairs; the oldest are forgotten first. */
const MAX_PAIRS = 100_000;

interface Failures {
  count: number;
  last: number;
  until: number;
}

/**
 * Failed logins per (username, client address) with progressive back-off: a guesser waits 1 s,
 * 2 s, 4 s … up to maxDelayMs between tries, while the same account logs in from any other
 * address as usual, so nobody can lock an account out from elsewhere.
 */
export class LoginThrottle {
  private readonly pairs = new Map<string, Failures>();

  constructor(
    private readonly backoff: LoginBackoff = DEFAULT_LOGIN_BACKOFF,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Milliseconds before this pair may try again; 0 now. */
  waitMs(username: string, address: string): number {
    const f = this.current(this.key(username, address));
    return f ? Math.max(0, f.until - this.clock()) : 0;
  }

  failed(username: string, address: string): void {
    const key = this.key(username, address);
    const now = this.clock();
    const f = this.current(key) ?? { count: 0, last: now, until: 0 };
    f.count++;
    f.last = now;
    const over = f.count - this.backoff.freeFailures;
    if (over >= 0) f.until = now + Math.min(this.backoff.maxDelayMs, this.backoff.baseDelayMs * 2 ** Math.min(over, 30));
    this.pairs.delete(key);
    this.pairs.set(key, f);
    if (this.pairs.size > MAX_PAIRS) this.pairs.delete(this.pairs.keys().next().value!);
  }

  succeeded(username: string, address: string): void {
    this.pairs.delete(this.key(username, address));
  }

  private current(key: string): Failures | undefined {
    const f = this.pairs.get(key);
    if (f && this.clock() - f.last > this.backoff.forgetAfterMs && this.clock() >= f.until) {
      this.pairs.delete(key);
      return undefined;
    }
    return f;
  }

  private key(username: string, address: string): string {
    return `${username.toLowerCase()}\u0000${address}`;
  }
}
