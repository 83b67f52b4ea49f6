import { EventEmitter } from 'node:events';
import type { Database } from '../db/database.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { USER_ROLES, type UserRole } from './roles.ts';

/** A user as the API shows it: never the password hash. */
export interface User {
  id: number;
  username: string;
  displayName: string;
  role: UserRole;
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

export class UserInputError extends Error {
  override name = 'UserInputError';
  readonly statusCode: number = 400;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export class UserConflictError extends UserInputError {
  override name = 'UserConflictError';
  override readonly statusCode = 409;
}

export class UserNotFoundError extends Error {
  override name = 'UserNotFoundError';
  readonly statusCode = 404;
  constructor(readonly id: number) {
    super(`user ${id} does not exist`);
  }
}

export interface NewUser {
  username: string;
  displayName: string;
  role: UserRole;
  password: string;
}

export interface UserChange {
  displayName?: string;
  role?: UserRole;
  password?: string;
}

/** A password hash nothing verifies against. */
const DISABLED_HASH = '!disabled';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/;

const toUser = (r: UserRow): User => ({ id: r.id, username: r.username, displayName: r.display_name, role: r.role, createdAt: r.created_at });

export interface UserStoreEvents {
  /** Every session of the user was ended (new password or role, account disabled), after the change committed. */
  'sessions-ended': [userId: number];
}

/** The users table of migration 1; usernames compare without case. */
export class UserStore extends EventEmitter<UserStoreEvents> {
  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {
    super();
  }

  async create(input: NewUser): Promise<User> {
    if (!USERNAME.test(input.username)) throw new UserInputError('username', 'use 2-64 letters, digits, dots, dashes or underscores, starting with a letter or digit');
    if (!input.displayName.trim()) throw new UserInputError('displayName', 'must not be empty');
    if (!USER_ROLES.includes(input.role)) throw new UserInputError('role', `must be one of ${USER_ROLES.join(', ')}`);
    const problem = passwordProblem(input.password);
    if (problem) throw new UserInputError('password', problem);
    const hash = await hashPassword(input.password);
    try {
      const info = this.db
        .prepare('INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(input.username, input.displayName.trim(), input.role, hash, this.clock());
      return this.get(Number(info.lastInsertRowid));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new UserConflictError('username', `${input.username} is taken`);
      throw err;
    }
  }

  /** Changes what is given; a new password or role ends the user's sessions (in one transaction). */
  async update(id: number, change: UserChange): Promise<User> {
    this.get(id);
    if (change.displayName !== undefined && !change.displayName.trim()) throw new UserInputError('displayName', 'must not be empty');
    if (change.role !== undefined && !USER_ROLES.includes(change.role)) throw new UserInputError('role', `must be one of ${USER_ROLES.join(', ')}`);
    if (change.password !== undefined) {
      const problem = passwordProblem(change.password);
      if (problem) throw new UserInputError('password', problem);
    }
    const hash = change.password === undefined ? undefined : await hashPassword(change.password);
    const sessionsEnded = this.db.transaction((): boolean => {
      const current = this.row(id);
      if (change.role !== undefined && change.role !== 'administrator' && current.role === 'administrator' && this.administrators() === 1) {
        throw new UserConflictError('role', 'this is the last administrator; make another user administrator first');
      }
      this.db
        .prepare('UPDATE users SET display_name = ?, role = ?, password_hash = ? WHERE id = ?')
        .run(change.displayName?.trim() ?? current.display_name, change.role ?? current.role, hash ?? current.password_hash, id);
      if (hash !== undefined || (change.role !== undefined && change.role !== current.role)) {
        this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(id);
        return true;
      }
      return false;
    })();
    if (sessionsEnded) this.emit('sessions-ended', id);
    return this.get(id);
  }

  get(id: number): User {
    return toUser(this.row(id));
  }

  list(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY id').all() as UserRow[]).map(toUser);
  }

  /** The user and their password hash, for the login check only. */
  credentials(username: string): { user: User; passwordHash: string } | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
    return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined;
  }

  exists(username: string): boolean {
    return this.db.prepare('SELECT 1 FROM users WHERE username = ?').get(username) !== undefined;
  }

  administrators(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'administrator'").get() as { n: number }).n;
  }

  /** Administrators who can log in (not disabled). */
  activeAdministrators(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'administrator' AND password_hash != ?").get(DISABLED_HASH) as { n: number }).n;
  }

  /** The account stays (work orders refer to it) but nothing logs in as it any more; its sessions end. */
  disable(id: number): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(DISABLED_HASH, id);
      this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(id);
    })();
    this.emit('sessions-ended', id);
  }

  private row(id: number): UserRow {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    if (!row) throw new UserNotFoundError(id);
    return row;
  }
}
