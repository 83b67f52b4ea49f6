import type { ConnectionStatus } from '../../common/topics.ts';

/**
 * Whether a connection (a Modbus TCP converter or serial bus, a DL/T 645 line) is up for the
 * devices behind it, as the gateway status reports it (docs/upstream.md). Down when the link is
 * not open, or when every device on it has stopped answering (a converter whose serial side is
 * dead accepts the socket all the same); up again once the link is open and a device answers.
 * Unknown until the first attempt has shown which.
 */
export class LinkState {
  private state: 'up' | 'down' | undefined;
  private since = 0;

  constructor(
    readonly id: string,
    readonly protocol: string,
    readonly devices: readonly string[],
    private readonly now: () => number,
    /** Called after each change of state. */
    private readonly changed: () => void,
  ) {}

  /** The link was opened (`true`) or lost. */
  link(open: boolean): void {
    if (!open) this.set('down');
    else if (this.devices.length === 0) this.set('up');
  }

  /** A device on the link answered. */
  answered(): void {
    if (this.state !== 'up') this.set('up');
  }

  /** Every device on the link has stopped answering. */
  silent(): void {
    this.set('down');
  }

  status(): ConnectionStatus | undefined {
    if (this.state === undefined) return undefined;
    return { id: this.id, protocol: this.protocol, state: this.state, since: this.since, devices: [...this.devices] };
  }

  private set(state: 'up' | 'down'): void {
    if (state === this.state) return;
    this.state = state;
    this.since = this.now();
    this.changed();
  }
}
