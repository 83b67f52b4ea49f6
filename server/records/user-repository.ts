import type { UserRole } from '../auth/roles.ts';
import { first, type RecordsClient, type SqlRunner } from './records-client.ts';

/** A user as stored, password hash included. */
export interface UserRecord {
  id: number;
  username: string;
  displayName: string;
  role: UserRole;
  passwordHash: string;
  createdAt: number;
}

interface UserRow {
  id: number;
  username: string;
  display_name: string;
  role: UserRole;
  password_hash: string;
  created_at: number;
}

const toRecord = (r: UserRow): UserRecord => ({ id: r.id, username: r.username, displayName: r.display_name, role: r.role, passwordHash: r.password_hash, createdAt: r.created_at });

async function find(sql: SqlRunner, id: number, forUpdate = false): Promise<UserRecord | undefined> {
  const row = first(await sql.query<UserRow>('SELECT * FROM users WHERE id = ?', [id], { forUpdate }));
  return row && toRecord(row);
}

/**
 * Users (table of migration 1) and the sessions that end with a change of theirs. Usernames
 * compare without case: `lower()` on both sides here, and a case-insensitive unique key in the schema.
 */
export class UserRepository {
  constructor(private readonly client: RecordsClient) {}

  /** Throws UniqueViolationError when the username is taken. */
  async insert(user: Omit<UserRecord, 'id'>): Promise<UserRecord> {
    const [row] = await this.client.query<UserRow>(
      'INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
      [user.username, user.displayName, user.role, user.passwordHash, user.createdAt],
    );
    return toRecord(row!);
  }

  get(id: number): Promise<UserRecord | undefined> {
    return find(this.client, id);
  }

  async byUsername(username: string): Promise<UserRecord | undefined> {
    const row = first(await this.client.query<UserRow>('SELECT * FROM users WHERE lower(username) = lower(?)', [username]));
    return row && toRecord(row);
  }

  async list(): Promise<UserRecord[]> {
    return (await this.client.query<UserRow>('SELECT * FROM users ORDER BY id')).map(toRecord);
  }

  /** Administrators; with `except`, those whose password hash is not that one (accounts that can log in). */
  async administrators(except?: string): Promise<number> {
    const [row] = except === undefined
      ? await this.client.query<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE role = 'administrator'")
      : await this.client.query<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE role = 'administrator' AND password_hash <> ?", [except]);
    return row!.n;
  }

  /**
   * Changes user `id` as `decide` says, given the user and the number of administrators, and ends
   * the user's sessions when it says so, in one transaction. Undefined when there is no such user.
   */
  async update(
    id: number,
    decide: (current: UserRecord, facts: { administrators: number }) => { next: UserRecord; endSessions: boolean },
  ): Promise<{ user: UserRecord; sessionsEnded: boolean } | undefined> {
    return this.client.transaction(async (tx) => {
      const current = await find(tx, id, true);
      if (!current) return undefined;
      const [admins] = await tx.query<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE role = 'administrator'");
      const { next, endSessions } = decide(current, { administrators: admins!.n });
      const [row] = await tx.query<UserRow>('UPDATE users SET display_name = ?, role = ?, password_hash = ? WHERE id = ? RETURNING *', [
        next.displayName,
        next.role,
        next.passwordHash,
        id,
      ]);
      if (endSessions) await tx.run('DELETE FROM sessions WHERE user_id = ?', [id]);
      return { user: toRecord(row!), sessionsEnded: endSessions };
    });
  }

  /** Sets the password hash and ends every session of the user, in one transaction. */
  async replacePassword(id: number, passwordHash: string): Promise<void> {
    await this.client.transaction(async (tx) => {
      await tx.run('UPDATE users SET password_hash = ? WHERE id = ?', [passwordHash, id]);
      await tx.run('DELETE FROM sessions WHERE user_id = ?', [id]);
    });
  }
}
