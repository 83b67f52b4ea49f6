export interface PresencePolicy {
  /** Consecutive timeouts after which a device is offline. */
  offlineAfterTimeouts: number;
  /** An offline device is probed once every this many poll cycles. */
  probeEveryCycles: number;
}

export const DEFAULT_PRESENCE: PresencePolicy = { offlineAfterTimeouts: 3, probeEveryCycles: 5 };

/**
 * Whether a polled device answers (docs/gateway.md, offline devices). A device that times out
 * `offlineAfterTimeouts` times in a row is offline and only probed now and then, so a dead device
 * costs its line one timeout every few cycles instead of every cycle. Any answer brings it back.
 */
export class DevicePresence {
  consecutiveTimeouts = 0;
  offline = false;
  /** When the device last gave a usable value. */
  lastGoodAt: number | undefined;
  private lastProbeCycle = 0;

  constructor(private readonly policy: PresencePolicy = DEFAULT_PRESENCE) {}

  /** Whether to poll the device in `cycle`: every cycle while online, every probeEveryCycles while offline. */
  due(cycle: number): boolean {
    if (!this.offline) return true;
    if (cycle - this.lastProbeCycle < this.policy.probeEveryCycles) return false;
    this.lastProbeCycle = cycle;
    return true;
  }

  /** The device answered (an error answer too); `goodAt` when it gave a value. True when it was offline and is back. */
  answered(goodAt?: number): boolean {
    this.consecutiveTimeouts = 0;
    if (goodAt !== undefined) this.lastGoodAt = goodAt;
    if (!this.offline) return false;
    this.offline = false;
    return true;
  }

  /** A request got no answer in time. True when this timeout makes the device offline. */
  timedOut(cycle: number): boolean {
    this.consecutiveTimeouts++;
    if (this.offline || this.consecutiveTimeouts < this.policy.offlineAfterTimeouts) return false;
    this.offline = true;
    this.lastProbeCycle = cycle;
    return true;
  }
}
