import { systemClock, type Clock } from '../clock.ts';

export interface BackoffOptions {
  /** First reconnect delay; doubles on each failed attempt. Default 500 ms. */
  initialMs?: number;
  /** Default 30 s. */
  maxMs?: number;
}

/**
 * Keeps a link (a socket, a serial port) open for a connector: a link that cannot be opened or is
 * lost is opened again in the background, one attempt at a time, after a delay that doubles per
 * failed attempt up to a cap, with jitter (each delay between half and all of it).
 */
export class Reconnector {
  /** Attempts scheduled since the link was last open. */
  attempt = 0;
  private connecting: Promise<boolean> | undefined;
  private wait: AbortController | undefined;
  private closedByOwner = true;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(
    /** One attempt to open the link; resolves whether it is open. Never rejects. */
    private readonly tryOpen: () => Promise<boolean>,
    private readonly isOpen: () => boolean,
    backoff: BackoffOptions = {},
    /** Times the delays. Default: the system clock. */
    private readonly clock: Clock = systemClock,
  ) {
    this.initialMs = backoff.initialMs ?? 500;
    this.maxMs = backoff.maxMs ?? 30_000;
  }

  /** True between close() and the next open(): attempts that finish then must drop what they opened. */
  get closed(): boolean {
    return this.closedByOwner;
  }

  /** The first attempt; resolves whether it succeeded. On failure it keeps trying in the background. */
  open(): Promise<boolean> {
    this.closedByOwner = false;
    return this.connect();
  }

  /** Stops trying; waits for an attempt in progress. */
  async close(): Promise<void> {
    this.closedByOwner = true;
    this.wait?.abort();
    this.wait = undefined;
    await this.connecting;
  }

  /** Schedules the next attempt unless one is scheduled or running, the link is open, or closed. */
  schedule(): void {
    if (this.closedByOwner || this.connecting || this.wait || this.isOpen()) return;
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt++;
    const delay = base / 2 + Math.random() * (base / 2);
    const wait = new AbortController();
    this.wait = wait;
    void this.clock.sleep(delay, wait.signal).then((due) => {
      if (this.wait === wait) this.wait = undefined;
      if (due) void this.connect();
    });
  }

  private connect(): Promise<boolean> {
    if (this.connecting) return this.connecting;
    this.connecting = this.tryOpen()
      .then((ok) => {
        if (ok) this.attempt = 0;
        return ok;
      })
      .finally(() => {
        this.connecting = undefined;
        this.schedule();
      });
    return this.connecting;
  }
}
