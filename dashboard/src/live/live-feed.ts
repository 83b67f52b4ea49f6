import { io, type Socket } from 'socket.io-client';
import type { FeedMessage } from '../state/estate-store.ts';
import { record } from './trace.ts';

export type ConnectionState = 'connecting' | 'live' | 'disconnected';
export type SessionEnd = 'logout' | 'revoked' | 'expired';

export interface LiveFeedOptions {
  token: string;
  onMessage(m: FeedMessage): void;
  onState(state: ConnectionState, since: number): void;
  onSessionEnded(reason: SessionEnd): void;
}

const FEED_EVENTS = ['snapshot', 'building:status', 'device:state', 'alarm:raised', 'alarm:updated', 'alarm:cleared', 'ticket:created', 'ticket:changed'] as const;

/**
 * The dashboard's socket (docs/sockets.md). A dropped connection reconnects by itself (also after
 * the server restarted, or shut down cleanly), and every connection starts with a fresh snapshot
 * that replaces what the screen knew. A session that ended (`session:expired`, or a token the
 * server refuses) stops it: the screen returns to the login.
 */
export class LiveFeed {
  private socket: Socket | undefined;
  private ended = false;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: LiveFeedOptions) {}

  start(): void {
    const socket = io({ path: '/socket.io', transports: ['websocket'], auth: { token: this.options.token }, reconnectionDelay: 500, reconnectionDelayMax: 3000, timeout: 5000 });
    this.socket = socket;
    this.options.onState('connecting', Date.now());
    socket.on('connect', () => {
      record('connect');
      this.options.onState('live', Date.now());
    });
    socket.on('disconnect', (reason) => {
      record('disconnect');
      this.options.onState('disconnected', Date.now());
      // The server closed the socket without ending the session: it is shutting down. Come back when it does.
      if (reason === 'io server disconnect' && !this.ended) this.retry = setTimeout(() => socket.connect(), 1000);
    });
    socket.on('connect_error', (err: Error & { data?: { status?: number } }) => {
      if (err.data?.status === 401) return this.end('expired');
      this.options.onState('disconnected', Date.now());
    });
    socket.on('session:expired', (m: { reason?: SessionEnd }) => this.end(m?.reason ?? 'expired'));
    for (const type of FEED_EVENTS) {
      socket.on(type, (body: unknown) => {
        if (type === 'alarm:raised') record(type, (body as { alarm: { id: string } }).alarm.id);
        else if (type === 'snapshot') record(type);
        this.options.onMessage({ type, body } as FeedMessage);
      });
    }
  }

  stop(): void {
    this.ended = true;
    clearTimeout(this.retry);
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = undefined;
  }

  private end(reason: SessionEnd): void {
    if (this.ended) return;
    this.stop();
    this.options.onSessionEnded(reason);
  }
}
