import { EventEmitter } from 'node:events';
import { UniqueViolationError } from '../records/records-client.ts';
import type { UserRecord, UserRepository } from '../records/user-repository.ts';
import { demoCredentialProblem } from './demo-accounts.ts';
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

const toUser = (r: UserRecord): User => ({ id: r.id, username: r.username, displayName: r.displayName, role: r.role, createdAt: r.createdAt });

export interface UserStoreEvents {
  /** Every session of the user was ended (new password or role, account disabled), after the change committed. */
  'sessions-ended': [userId: number];
}

/** Accounts: who may log in, with which role; usernames compare without case. */
export class UserStore extends EventEmitter<UserStoreEvents> {
  private readonly demo: boolean;

  /** `demo`: the demo estate, the only one where the demo accounts' names and password may be used. */
  constructor(
    private readonly records: UserRepository,
    private readonly clock: () => number = Date.now,
    options: { demo?: boolean } = {},
  ) {
    super();
    this.demo = options.demo ?? false;
  }

  private checkPassword(password: string): void {
    const problem = passwordProblem(password) ?? (this.demo ? undefined : demoCredentialProblem('password', password));
    if (problem) throw new UserInputError('password', problem);
  }

  async create(input: NewUser): Promise<User> {
    if (!USERNAME.test(input.username)) throw new UserInputError('username', 'use 2-64 letters, digits, dots, dashes or underscores, starting with a letter or digit');
    const reserved = this.demo ? undefined : demoCredentialProblem('username', input.username);
    if (reserved) throw new UserInputError('username', reserved);
    if (!input.displayName.trim()) throw new UserInputError('displayName', 'must not be empty');
    if (!USER_ROLES.includes(input.role)) throw new UserInputError('role', `must be one of ${USER_ROLES.join(', ')}`);
    this.checkPassword(input.password);
    const passwordHash = await hashPassword(input.password);
    try {
      return toUser(await this.records.insert({ username: input.username, displayName: input.displayName.trim(), role: input.role, passwordHash, createdAt: this.clock() }));
    } catch (err) {
      if (err instanceof UniqueViolationError) throw new UserConflictError('username', `${input.username} is taken`);
      throw err;
    }
  }

  /** Changes what is given; a new password or role ends the user's sessions (in one transaction). */
  async update(id: number, change: UserChange): Promise<User> {
    await this.get(id);
    if (change.displayName !== undefined && !change.displayName.trim()) throw new UserInputError('displayName', 'must not be empty');
    if (change.role !== undefined && !USER_ROLES.includes(change.role)) throw new UserInputError('role', `must be one of ${USER_ROLES.join(', ')}`);
    if (change.password !== undefined) this.checkPassword(change.password);
    const hash = change.password === undefined ? undefined : await hashPassword(change.password);
    const updated = await this.records.update(id, (current, { administrators }) => {
      if (change.role !== undefined && change.role !== 'administrator' && current.role === 'administrator' && administrators === 1) {
        throw new UserConflictError('role', 'this is the last administrator; make another user administrator first');
      }
      const next = { ...current, displayName: change.displayName?.trim() ?? current.displayName, role: change.role ?? current.role, passwordHash: hash ?? current.passwordHash };
      return { next, endSessions: hash !== undefined || next.role !== current.role };
    });
    if (!updated) throw new UserNotFoundError(id);
    if (updated.sessionsEnded) this.emit('sessions-ended', id);
    return toUser(updated.user);
  }

  async get(id: number): Promise<User> {
    const user = await this.records.get(id);
    if (!user) throw new UserNotFoundError(id);
    return toUser(user);
  }

  async list(): Promise<User[]> {
    return (await this.records.list()).map(toUser);
  }

  /** The user and their password hash, for the login check only. */
  async credentials(username: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const found = await this.records.byUsername(username);
    return found ? { user: toUser(found), passwordHash: found.passwordHash } : undefined;
  }

  async exists(username: string): Promise<boolean> {
    return (await this.records.byUsername(username)) !== undefined;
  }

  administrators(): Promise<number> {
    return this.records.administrators();
  }

  /** Administrators who can log in (not disabled). */
  activeAdministrators(): Promise<number> {
    return this.records.administrators(DISABLED_HASH);
  }

  /** The account stays (work orders refer to it) but nothing logs in as it any more; its sessions end. */
  async disable(id: number): Promise<void> {
    await this.records.replacePassword(id, DISABLED_HASH);
    this.emit('sessions-ended', id);
  }
}
