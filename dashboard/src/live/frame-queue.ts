import type { FeedMessage } from '../state/estate-store.ts';
import type { DeviceLiveState } from '../types.ts';
import { trace } from './trace.ts';

/** Hidden screens get no animation frames; deltas are still applied this often. */
const HIDDEN_FLUSH_MS = 250;

/**
 * Applies the feed's messages once per animation frame, so a burst of device deltas costs one
 * render. Device states are coalesced by device (the newest wins) while they wait, so the queue
 * never grows past the number of devices, however fast readings arrive.
 */
export class FrameQueue {
  private messages: FeedMessage[] = [];
  private devices = new Map<string, { building: string; state: DeviceLiveState }>();
  private scheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly apply: (m: FeedMessage) => void,
    private readonly render: () => void,
  ) {}

  push(m: FeedMessage): void {
    if (m.type === 'device:state') {
      for (const d of m.body.devices) this.devices.set(d.id, { building: d.building, state: d });
    } else {
      if (m.type === 'snapshot') this.devices.clear();
      this.messages.push(m);
    }
    this.schedule();
  }

  /** A render without new messages (the clock moved, the language changed). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.flush());
    this.timer = setTimeout(() => this.flush(), HIDDEN_FLUSH_MS);
  }

  private flush(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    clearTimeout(this.timer);
    trace.frame++;
    const messages = this.messages;
    this.messages = [];
    for (const m of messages) this.apply(m);
    if (this.devices.size > 0) {
      const byBuilding = new Map<string, DeviceLiveState[]>();
      for (const { building, state } of this.devices.values()) {
        const list = byBuilding.get(building);
        if (list) list.push(state);
        else byBuilding.set(building, [state]);
      }
      trace.deviceStates += this.devices.size;
      this.devices = new Map();
      for (const [building, devices] of byBuilding) this.apply({ type: 'device:state', body: { building, devices } });
    }
    trace.renders++;
    this.render();
  }
}
