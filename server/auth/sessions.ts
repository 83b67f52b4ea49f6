import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Database } from '../db/database.ts';
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

/** Bearer sessions: the token is 32 random bytes handed out once; the table keeps its SHA-256. */
export class SessionStore extends EventEmitter<SessionStoreEvents> {
  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
    readonly ttlMs: number = SESSION_TTL_MS,
  ) {
    super();
  }

  open(userId: number, ip?: string): { token: string; expiresAt: number } {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock();
    const expiresAt = now + this.ttlMs;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
      this.db.prepare('INSERT INTO sessions (token_hash, user_id, created_at, expires_at, ip) VALUES (?, ?, ?, ?, ?)').run(digest(token), userId, now, expiresAt, ip ?? null);
    })();
    return { token, expiresAt };
  }

  /** The live session of a token, or undefined when it is unknown or expired. */
  find(token: string): Session | undefined {
    const row = this.db
      .prepare(
        `SELECT s.token_hash, s.expires_at, u.id, u.username, u.display_name, u.role
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?`,
      )
      .get(digest(token), this.clock()) as
      | { token_hash: string; expires_at: number; id: number; username: string; display_name: string; role: UserRole }
      | undefined;
    if (!row) return undefined;
    return { userId: row.id, username: row.username, displayName: row.display_name, role: row.role, expiresAt: row.expires_at, tokenHash: row.token_hash };
  }

  /** Logout: the token stops working, and `ended` tells whoever holds a connection open for it. */
  close(tokenHash: string): void {
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
    this.emit('ended', { reason: 'logout', tokenHash });
  }
}
