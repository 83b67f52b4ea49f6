import type { Alarm, AlarmMessage, BuildingStatus, DeviceLiveState, Snapshot, TicketMessage, WorkOrder } from '../types.ts';

/** What changed since the views last rendered. */
export interface Dirty {
  /** A fresh snapshot replaced everything. */
  all: boolean;
  buildings: Set<string>;
  devices: Set<string>;
  alarms: boolean;
  tickets: boolean;
}

export type FeedMessage =
  | { type: 'snapshot'; body: Snapshot }
  | { type: 'building:status'; body: BuildingStatus }
  | { type: 'device:state'; body: { building?: string; devices: DeviceLiveState[] } }
  | { type: 'alarm:raised' | 'alarm:updated' | 'alarm:cleared'; body: AlarmMessage }
  | { type: 'ticket:created' | 'ticket:changed'; body: TicketMessage };

const emptyDirty = (): Dirty => ({ all: false, buildings: new Set(), devices: new Set(), alarms: false, tickets: false });

/**
 * The live picture of the estate: a snapshot, then deltas (docs/sockets.md). Open alarms are those
 * not `cleared`; work orders those not `closed`. Times from the server are compared with the
 * server's clock (`serverNow`), not the screen's.
 */
export class EstateStore {
  readonly status = new Map<string, BuildingStatus>();
  readonly devices = new Map<string, DeviceLiveState>();
  readonly alarms = new Map<string, Alarm>();
  readonly tickets = new Map<number, WorkOrder>();
  /** Screen time of the last message from the server; undefined before the first snapshot. */
  lastMessageAt: number | undefined;
  private skewMs = 0;
  private dirty = emptyDirty();

  constructor(private readonly now: () => number = Date.now) {}

  /** The server's clock as the screen best knows it. */
  serverNow(): number {
    return this.now() + this.skewMs;
  }

  get hasSnapshot(): boolean {
    return this.lastMessageAt !== undefined;
  }

  apply(m: FeedMessage): void {
    this.lastMessageAt = this.now();
    switch (m.type) {
      case 'snapshot':
        return this.applySnapshot(m.body);
      case 'building:status':
        this.status.set(m.body.id, m.body);
        this.dirty.buildings.add(m.body.id);
        return;
      case 'device:state':
        for (const d of m.body.devices) {
          const known = this.devices.get(d.id);
          if (known && (known.lastSeen ?? 0) > (d.lastSeen ?? 0) && known.status === d.status) continue;
          this.devices.set(d.id, d);
          this.dirty.devices.add(d.id);
        }
        return;
      case 'alarm:raised':
      case 'alarm:updated':
      case 'alarm:cleared':
        return this.putAlarm(m.body.alarm);
      case 'ticket:created':
      case 'ticket:changed':
        return this.putTicket(m.body.ticket);
    }
  }

  /** Hands over what changed and starts collecting afresh. */
  takeDirty(): Dirty {
    const d = this.dirty;
    this.dirty = emptyDirty();
    return d;
  }

  isDirty(): boolean {
    const d = this.dirty;
    return d.all || d.alarms || d.tickets || d.buildings.size > 0 || d.devices.size > 0;
  }

  clear(): void {
    this.status.clear();
    this.devices.clear();
    this.alarms.clear();
    this.tickets.clear();
    this.lastMessageAt = undefined;
    this.dirty = { ...emptyDirty(), all: true };
  }

  openAlarms(): Alarm[] {
    return [...this.alarms.values()];
  }

  openTickets(): WorkOrder[] {
    return [...this.tickets.values()];
  }

  devicesOf(building: string): DeviceLiveState[] {
    return [...this.devices.values()].filter((d) => d.building === building);
  }

  private applySnapshot(s: Snapshot): void {
    this.skewMs = s.at - this.now();
    this.status.clear();
    for (const b of s.status) this.status.set(b.id, b);
    this.devices.clear();
    for (const d of s.devices) this.devices.set(d.id, d);
    this.alarms.clear();
    for (const a of s.alarms) this.alarms.set(a.id, a);
    this.tickets.clear();
    for (const t of s.tickets) this.tickets.set(t.id, t);
    this.dirty = { ...emptyDirty(), all: true };
  }

  /** An alarm as the server answered an action on it (the socket's message may come later). */
  putAlarm(alarm: Alarm): void {
    const known = this.alarms.get(alarm.id);
    if (known && known.updatedAt > alarm.updatedAt) return;
    if (alarm.state === 'cleared') this.alarms.delete(alarm.id);
    else this.alarms.set(alarm.id, alarm);
    this.dirty.alarms = true;
  }

  putTicket(ticket: WorkOrder): void {
    const known = this.tickets.get(ticket.id);
    if (known && known.updatedAt > ticket.updatedAt) return;
    if (ticket.state === 'closed') this.tickets.delete(ticket.id);
    else this.tickets.set(ticket.id, ticket);
    this.dirty.tickets = true;
    this.dirty.buildings.add(ticket.building);
  }
}
