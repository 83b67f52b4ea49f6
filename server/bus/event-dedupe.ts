import type { DeviceEvent } from '../../common/reading.ts';

/** Identity of an event: QoS 1 may deliver it again, a gateway may replay it from its outbox. */
export function eventKey(e: Pick<DeviceEvent, 'building' | 'device' | 'event' | 'ts' | 'attrs'>): string {
  const attrs = Object.keys(e.attrs)
    .sort()
    .map((k) => `${k}=${JSON.stringify(e.attrs[k])}`)
    .join('&');
  return `${e.building}/${e.device}|${e.event}|${e.ts}|${attrs}`;
}

/** Remembers the last `capacity` events seen; first-seen wins. */
export class EventDedupe {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 50_000) {}

  /** True the first time an event is offered, false for a repeat. */
  firstTime(e: Pick<DeviceEvent, 'building' | 'device' | 'event' | 'ts' | 'attrs'>): boolean {
    const key = eventKey(e);
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > this.capacity) {
      // A Set iterates in insertion order: the first entry is the oldest.
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}
