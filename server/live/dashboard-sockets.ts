import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { SiteConfig } from '../../common/site/types.ts';
import type { Alarm } from '../alarms/alarm.ts';
import type { AlarmUpdate } from '../alarms/alarm-service.ts';
import type { AlarmFeedEvents } from './alarm-feed.ts';
import { bearerToken } from '../auth/bearer-token.ts';
import { mayReadPersonalData, withoutPersonalData } from '../auth/personal-data.ts';
import type { WorkOrder, WorkOrderChange } from '../work-orders/types.ts';
import { buildingStatus, type BuildingStatus } from './building-status.ts';
import { Coalescer } from './coalescer.ts';
import type { DeviceLiveState, LiveDeviceState } from './device-state.ts';

/** Who a socket belongs to; what the auth plugin's session lookup returns. */
export interface SocketUser {
  userId: number;
  username: string;
  role: string;
  /** When the session expires (epoch ms); the socket is disconnected after it. */
  expiresAt?: number;
  /** The session's key, matched against logouts. */
  tokenHash?: string;
}

/** A session ended before its expiry: one token logged out, or every session of a user revoked. */
export type EndedSession = { reason: 'logout'; tokenHash: string } | { reason: 'revoked'; userId: number };

/** Sent as `session:expired` just before the server disconnects a socket whose session ended. */
export interface SessionExpiredMessage {
  reason: 'logout' | 'revoked' | 'expired';
  at: number;
}

/** Token → user, or undefined for an unknown or expired token. */
export type VerifySocketToken = (token: string) => SocketUser | undefined | Promise<SocketUser | undefined>;

export interface DashboardSnapshot {
  at: number;
  /** Buildings this socket receives deltas for. */
  buildings: string[];
  status: BuildingStatus[];
  devices: DeviceLiveState[];
  /** Open alarms of those buildings, plus critical ones of every building. */
  alarms: Alarm[];
  /** Work orders not closed, of those buildings. */
  tickets: WorkOrder[];
}

/** Sent with every alarm event; `critical` alarms (fire, emergency call) go to every dashboard, whatever it subscribed to. */
export interface AlarmMessage {
  alarm: Alarm;
  critical: boolean;
  /** `alarm:updated` only. */
  change?: AlarmUpdate['change'];
  notify?: boolean;
}

export interface DashboardSocketsOptions {
  httpServer: HttpServer;
  verifyToken: VerifySocketToken;
  site: Pick<SiteConfig, 'buildings'>;
  liveState: LiveDeviceState;
  /** The alarms as the feed shows them: the alarm service through an AlarmFeed (floods grouped). */
  alarms: { listActive(): Alarm[]; on<K extends keyof AlarmFeedEvents>(e: K, l: (...a: AlarmFeedEvents[K]) => void): unknown; off<K extends keyof AlarmFeedEvents>(e: K, l: (...a: AlarmFeedEvents[K]) => void): unknown };
  /** Work orders not closed, of the given buildings. */
  openTickets(buildings: readonly string[]): Promise<WorkOrder[]>;
  /** Subscribes to committed work-order changes; returns the unsubscribe function. */
  onTicketChange(listener: (change: WorkOrderChange) => void): () => void;
  /** Subscribes to sessions ended before their expiry; returns the unsubscribe function. */
  onSessionEnded?(listener: (end: EndedSession) => void): () => void;
  /** How often sockets are checked for an expired session. Default 30 s. */
  sessionCheckMs?: number;
  clock?: () => number;
  /** Device deltas of one device are coalesced within this window. Default 100 ms. */
  deviceWindowMs?: number;
  /** Default `/socket.io`. */
  path?: string;
  logger?: Logger;
}

export interface DashboardSocketCounters {
  connected: number;
  refused: number;
  deviceDeltas: number;
  alarmDeltas: number;
  ticketDeltas: number;
  buildingDeltas: number;
  /** Sockets disconnected because their session ended. */
  sessionsEnded: number;
}

/** Room of every authenticated dashboard (critical alarms). */
export const ALL_DASHBOARDS = 'dashboards';
/** Room of the dashboards that watch every building (the default): they get one device delta per window, not one per building. */
export const EVERY_BUILDING = 'buildings:all';
export const buildingRoom = (building: string): string => `building:${building}`;
/** Beside each room it is in, a viewer's socket is in this one: ticket messages reach it without personal data. */
export const viewerRoom = (room: string): string => `viewer:${room}`;
/** Room of every viewer's socket. */
export const VIEWERS = 'viewers';

const isViewer = (socket: Socket): boolean => !mayReadPersonalData((socket.data.user as SocketUser | undefined)?.role ?? 'viewer');

/** The rooms a socket joins for `rooms`: a viewer's also join their viewer twins. */
const roomsOf = (socket: Socket, rooms: readonly string[]): string[] => (isViewer(socket) ? [...rooms, ...rooms.map(viewerRoom), VIEWERS] : [...rooms]);

export function isCritical(alarm: Pick<Alarm, 'severity'>): boolean {
  return alarm.severity === 'critical';
}

function tokenOf(socket: Socket): string | undefined {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  if (typeof auth?.token === 'string' && auth.token !== '') return auth.token;
  return bearerToken(socket.handshake.headers.authorization);
}

/**
 * The dashboard's live feed (docs/sockets.md): login by token, a snapshot on connect, then deltas
 * per building room: `building:status`, `device:state` (coalesced per device), `alarm:raised`,
 * `alarm:updated`, `alarm:cleared`, `ticket:created`, `ticket:changed`, `ticket:escalated`, `inspection:due`.
 * A socket whose session ends (logout, revoked, expired) gets `session:expired` and is disconnected.
 */
export class DashboardSockets {
  readonly io: Server;
  readonly counters: DashboardSocketCounters = { connected: 0, refused: 0, deviceDeltas: 0, alarmDeltas: 0, ticketDeltas: 0, buildingDeltas: 0, sessionsEnded: 0 };
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly buildingIds: Set<string>;
  private readonly devices: Coalescer<string, string>;
  private readonly dirtyBuildings: Coalescer<string, true>;
  private readonly lastStatus = new Map<string, string>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly sessionCheck: NodeJS.Timeout;
  /** Ticket changes pushed so far: a snapshot read while one was pushed is read again. */
  private ticketChanges = 0;

  constructor(private readonly options: DashboardSocketsOptions) {
    this.log = options.logger ?? createLogger('sockets');
    this.clock = options.clock ?? Date.now;
    this.buildingIds = new Set(options.site.buildings.map((b) => b.id));
    this.io = new Server(options.httpServer, { path: options.path ?? '/socket.io', serveClient: false });
    const windowMs = options.deviceWindowMs ?? 100;
    this.devices = new Coalescer(windowMs, (batch) => this.flushDevices(batch));
    this.dirtyBuildings = new Coalescer(windowMs, (batch) => this.flushBuildings(batch.keys()));
    const open = options.alarms.listActive();
    for (const b of options.site.buildings) this.lastStatus.set(b.id, JSON.stringify(buildingStatus(b, options.liveState, open)));

    this.io.use((socket, next) => {
      const token = tokenOf(socket);
      const refuse = (reason: string): void => {
        this.counters.refused++;
        next(Object.assign(new Error(reason), { data: { status: 401 } }));
      };
      if (!token) return refuse('log in first: pass the token from POST /api/auth/login as auth.token');
      Promise.resolve(options.verifyToken(token)).then(
        (user) => {
          if (!user) return refuse('the token is unknown or has expired; log in again');
          socket.data.user = user;
          next();
        },
        (err: unknown) => {
          this.log.error({ err }, 'socket token check failed');
          refuse('the token could not be checked');
        },
      );
    });
    this.io.on('connection', (socket) => this.connected(socket));
    this.wire();
    // The token is checked only at the handshake: an expiry has to be looked for.
    this.sessionCheck = setInterval(() => this.endExpiredSessions(), options.sessionCheckMs ?? 30_000);
    this.sessionCheck.unref();
  }

  /** Disconnects the sockets whose session has expired by the clock; runs every `sessionCheckMs`. */
  endExpiredSessions(): void {
    const now = this.clock();
    this.endSessions((u) => u.expiresAt !== undefined && u.expiresAt <= now, 'expired');
  }

  /** An inspection task fell due in a building. */
  inspectionDue(building: string, task: unknown): void {
    this.io.to(buildingRoom(building)).emit('inspection:due', { building, task });
  }

  /** The snapshot a dashboard subscribed to `buildings` gets. */
  private snapshotWith(buildings: readonly string[], tickets: WorkOrder[]): DashboardSnapshot {
    const wanted = new Set(buildings);
    const open = this.options.alarms.listActive();
    return {
      at: this.clock(),
      buildings: [...buildings],
      status: this.options.site.buildings.filter((b) => wanted.has(b.id)).map((b) => buildingStatus(b, this.options.liveState, open)),
      devices: this.options.liveState.list(wanted),
      alarms: open.filter((a) => wanted.has(a.building) || isCritical(a) || !this.buildingIds.has(a.building)),
      tickets,
    };
  }

  /**
   * Joins the socket to the rooms of `buildings` and sends their snapshot, both at one moment: no
   * delta pushed before it is missing from the snapshot, none pushed after it reaches the socket
   * before it. Tickets are read again while changes to them are pushed during the read.
   */
  private async sendSnapshot(socket: Socket, buildings: readonly string[], rooms: readonly string[]): Promise<void> {
    let tickets: WorkOrder[];
    for (let attempt = 1; ; attempt++) {
      const before = this.ticketChanges;
      tickets = await this.options.openTickets(buildings);
      if (before === this.ticketChanges || attempt === 3) break;
    }
    if (socket.disconnected) return;
    for (const b of (socket.data.buildings as string[] | undefined) ?? []) for (const r of roomsOf(socket, [buildingRoom(b)])) if (r !== VIEWERS) void socket.leave(r);
    void socket.join(roomsOf(socket, rooms));
    // A dashboard of every building gets one device delta per window instead of one per building.
    if (buildings.length === this.buildingIds.size) void socket.join(EVERY_BUILDING);
    else void socket.leave(EVERY_BUILDING);
    socket.data.buildings = [...buildings];
    const snapshot = this.snapshotWith(buildings, tickets);
    socket.emit('snapshot', isViewer(socket) ? { ...snapshot, tickets: withoutPersonalData(snapshot.tickets) } : snapshot);
  }

  /** Disconnects every dashboard and stops pushing. The HTTP server is the caller's to close. */
  async close(): Promise<void> {
    clearInterval(this.sessionCheck);
    for (const off of this.unsubscribe.splice(0)) off();
    this.devices.close();
    this.dirtyBuildings.close();
    this.io.disconnectSockets(true);
    this.io.engine.close();
  }

  private connected(socket: Socket): void {
    this.counters.connected++;
    const all = [...this.buildingIds];
    socket.on('disconnect', () => {
      this.counters.connected--;
    });
    // Messages wait for the first snapshot: a subscribe must not overtake it.
    let ready = this.sendSnapshot(socket, all, [ALL_DASHBOARDS, ...all.map(buildingRoom)]).catch((err: unknown) => {
      this.snapshotFailed(socket, err);
      socket.disconnect(true);
    });
    socket.on('subscribe', (body: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: unknown) => void) : () => undefined;
      const raw = (body as { buildings?: unknown } | undefined)?.buildings;
      if (raw !== undefined && !(Array.isArray(raw) && raw.every((b) => typeof b === 'string'))) {
        return reply({ ok: false, error: 'buildings must be an array of building ids' });
      }
      const list = raw === undefined || raw.length === 0 ? all : [...new Set(raw as string[])];
      const unknown = list.filter((b) => !this.buildingIds.has(b));
      if (unknown.length > 0) return reply({ ok: false, error: `unknown building ${unknown.join(', ')} (known: ${all.join(', ')})` });
      ready = ready
        .then(() => this.sendSnapshot(socket, list, list.map(buildingRoom)))
        .then(
          () => reply({ ok: true, buildings: list }),
          (err: unknown) => {
            this.snapshotFailed(socket, err);
            reply({ ok: false, error: 'the snapshot could not be read; try again' });
          },
        );
    });
  }

  private snapshotFailed(socket: Socket, err: unknown): void {
    this.log.error({ err, socket: socket.id }, 'dashboard snapshot failed');
  }

  /** Tells every socket of a matching session that it ended, then disconnects it (the client does not reconnect by itself). */
  private endSessions(match: (user: SocketUser) => boolean, reason: SessionExpiredMessage['reason']): void {
    const ended = [...this.io.of('/').sockets.values()].filter((s) => s.data.user !== undefined && match(s.data.user as SocketUser));
    if (ended.length === 0) return;
    const message: SessionExpiredMessage = { reason, at: this.clock() };
    for (const socket of ended) {
      this.counters.sessionsEnded++;
      socket.emit('session:expired', message);
      socket.disconnect(true);
    }
    this.log.info({ reason, sockets: ended.length }, 'dashboard sockets of an ended session disconnected');
  }

  private wire(): void {
    const { alarms, liveState } = this.options;
    const raised = (alarm: Alarm): void => this.alarmEvent('alarm:raised', alarm, {});
    const cleared = (alarm: Alarm): void => this.alarmEvent('alarm:cleared', alarm, {});
    const updated = ({ alarm, change, notify }: AlarmUpdate): void => this.alarmEvent('alarm:updated', alarm, { change, notify });
    alarms.on('alarm-raised', raised);
    alarms.on('alarm-cleared', cleared);
    alarms.on('alarm-updated', updated);
    const changed = (deviceId: string, building: string): void => this.devices.mark(deviceId, building);
    liveState.on('changed', changed);
    const offTickets = this.options.onTicketChange((c) => this.ticketEvent(c));
    const offSessions = this.options.onSessionEnded?.((end) => {
      try {
        if (end.reason === 'logout') this.endSessions((u) => u.tokenHash === end.tokenHash, 'logout');
        else this.endSessions((u) => u.userId === end.userId, 'revoked');
      } catch (err) {
        this.log.error({ err, reason: end.reason }, 'ending the sockets of a session failed');
      }
    });
    if (offSessions) this.unsubscribe.push(offSessions);
    this.unsubscribe.push(
      () => alarms.off('alarm-raised', raised),
      () => alarms.off('alarm-cleared', cleared),
      () => alarms.off('alarm-updated', updated),
      () => liveState.off('changed', changed),
      offTickets,
    );
  }

  private alarmEvent(name: 'alarm:raised' | 'alarm:cleared' | 'alarm:updated', alarm: Alarm, extra: Pick<AlarmMessage, 'change' | 'notify'>): void {
    this.counters.alarmDeltas++;
    const critical = isCritical(alarm);
    const message: AlarmMessage = { alarm, critical, ...extra };
    // Critical alarms, and those of the whole estate (a gateway), reach every dashboard.
    if (critical || !this.buildingIds.has(alarm.building)) this.io.to(ALL_DASHBOARDS).emit(name, message);
    else this.io.to(buildingRoom(alarm.building)).emit(name, message);
    this.dirtyBuildings.mark(alarm.building, true);
  }

  private ticketEvent({ workOrder, event }: WorkOrderChange): void {
    this.ticketChanges++;
    this.counters.ticketDeltas++;
    const name = event.action === 'raise' || event.action === 'create' ? 'ticket:created' : 'ticket:changed';
    // Critical work orders (from critical alarms, people trapped in a lift) reach every dashboard.
    const critical = workOrder.priority === 'critical';
    const room = critical || !this.buildingIds.has(workOrder.building) ? ALL_DASHBOARDS : buildingRoom(workOrder.building);
    const message = { ticket: workOrder, event, critical };
    this.io.to(room).except(VIEWERS).emit(name, message);
    this.io.to(viewerRoom(room)).emit(name, withoutPersonalData(message));
    if (event.action === 'escalate') {
      const escalated = { ...message, level: event.details.level, role: event.details.role, reason: event.details.reason };
      this.io.to(room).except(VIEWERS).emit('ticket:escalated', escalated);
      this.io.to(viewerRoom(room)).emit('ticket:escalated', withoutPersonalData(escalated));
    }
  }

  private flushDevices(batch: Map<string, string>): void {
    const byBuilding = new Map<string, DeviceLiveState[]>();
    for (const [deviceId, building] of batch) {
      const state = this.options.liveState.get(deviceId);
      if (!state) continue;
      const list = byBuilding.get(building);
      if (list) list.push(state);
      else byBuilding.set(building, [state]);
    }
    if (byBuilding.size === 0) return;
    // One message per window to a dashboard of every building, one per building to the others:
    // with 1,000 dashboards the cost is the number of socket writes.
    const every = [...byBuilding.values()].flat();
    this.counters.deviceDeltas += every.length;
    const only = byBuilding.size === 1 ? [...byBuilding.keys()][0] : undefined;
    this.io.to(EVERY_BUILDING).emit('device:state', only === undefined ? { devices: every } : { building: only, devices: every });
    for (const [building, devices] of byBuilding) this.io.to(buildingRoom(building)).except(EVERY_BUILDING).emit('device:state', { building, devices });
    this.flushBuildings(byBuilding.keys());
  }

  private flushBuildings(buildings: Iterable<string>): void {
    let open: Alarm[] | undefined;
    for (const id of buildings) {
      open ??= this.options.alarms.listActive();
      const status = this.status(id, open);
      if (!status) continue;
      const json = JSON.stringify(status);
      if (this.lastStatus.get(id) === json) continue;
      this.lastStatus.set(id, json);
      this.counters.buildingDeltas++;
      this.io.to(buildingRoom(id)).emit('building:status', status);
    }
  }

  private status(id: string, open: Alarm[]): BuildingStatus | undefined {
    const b = this.options.site.buildings.find((x) => x.id === id);
    return b && buildingStatus(b, this.options.liveState, open);
  }
}
