import type { UserRole } from '../auth/roles.ts';
import { first, type RecordsClient } from './records-client.ts';

export interface SessionRecord {
  tokenHash: string;
  userId: number;
  createdAt: number;
  expiresAt: number;
  ip: string | null;
}

/** A live session with the user it belongs to. */
export interface SessionWithUser {
  tokenHash: string;
  expiresAt: number;
  userId: number;
  username: string;
  displayName: string;
  role: UserRole;
}

/** Login sessions (table of migration 2), kept by the SHA-256 of their bearer token. */
export class SessionRepository {
  constructor(private readonly client: RecordsClient) {}

  /** Stores a new session and drops the ones expired by its start, in one transaction. */
  async open(s: SessionRecord): Promise<void> {
    await this.client.transaction(async (tx) => {
      await tx.run('DELETE FROM sessions WHERE expires_at <= ?', [s.createdAt]);
      await tx.run('INSERT INTO sessions (token_hash, user_id, created_at, expires_at, ip) VALUES (?, ?, ?, ?, ?)', [s.tokenHash, s.userId, s.createdAt, s.expiresAt, s.ip]);
    });
  }

  /** The session of a token hash if it has not expired at `now`. */
  async find(tokenHash: string, now: number): Promise<SessionWithUser | undefined> {
    const row = first(
      await this.client.query<{ token_hash: string; expires_at: number; id: number; username: string; display_name: string; role: UserRole }>(
        `SELECT s.token_hash, s.expires_at, u.id, u.username, u.display_name, u.role
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?`,
        [tokenHash, now],
      ),
    );
    return row && { tokenHash: row.token_hash, expiresAt: row.expires_at, userId: row.id, username: row.username, displayName: row.display_name, role: row.role };
  }

  async close(tokenHash: string): Promise<void> {
    await this.client.run('DELETE FROM sessions WHERE token_hash = ?', [tokenHash]);
  }
}
