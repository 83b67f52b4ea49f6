import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { SessionRepository } from '../records/session-repository.ts';
import type { UserRole } from './roles.ts';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  userId: number;
  username: string;
  displayName: string;
  role: UserRole;
  expiresAt: number;
  tokenHash: string;
}

export interface SessionStoreEvents {
  /** A session was closed before it expired (logout); whatever it holds open must end now. */
  ended: [end: { reason: 'logout'; tokenHash: string }];
}

const digest = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** Bearer sessions: the token is 32 random bytes handed out once; the records keep its SHA-256. */
export class SessionStore extends EventEmitter<SessionStoreEvents> {
  constructor(
    private readonly records: SessionRepository,
    private readonly clock: () => number = Date.now,
    readonly ttlMs: number = SESSION_TTL_MS,
  ) {
    super();
  }

  async open(userId: number, ip?: string): Promise<{ token: string; expiresAt: number }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock();
    const expiresAt = now + this.ttlMs;
    await this.records.open({ tokenHash: digest(token), userId, createdAt: now, expiresAt, ip: ip ?? null });
    return { token, expiresAt };
  }

  /** The live session of a token, or undefined when it is unknown or expired. */
  find(token: string): Promise<Session | undefined> {
    return this.records.find(digest(token), this.clock());
  }

  /** Logout: the token stops working, and `ended` tells whoever holds a connection open for it. */
  async close(tokenHash: string): Promise<void> {
    await this.records.close(tokenHash);
    this.emit('ended', { reason: 'logout', tokenHash });
  }
}
