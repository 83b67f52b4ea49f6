import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';

/** A PostgreSQL server of the test run: temp data dir, free loopback port, trust auth. */
export interface PostgresInstance {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** A URL for database `name` of this server (create it first with createDatabase). */
  urlFor(name: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs a psql script on database `postgres`; resolves with what it printed (unaligned, no headers), rejects with psql's error. */
  psql(script: string): Promise<string>;
  readonly pid: number | undefined;
  /** SIGKILL: a crash. Call start() to bring it back on the same port and data. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Fast shutdown, then the data dir is removed. Idempotent. */
  stop(): Promise<void>;
}

/** Debian installs the server binaries in a versioned folder that is not on PATH. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** True when PostgreSQL is installed; otherwise prints why tests skip (throws under CI=true). */
export function hasPostgres(): boolean {
  if (postgresBinDir()) return true;
  if (process.env.CI === 'true') throw new Error('postgresql is not installed; CI needs it (see .ci/run)');
  console.warn('skipping: PostgreSQL is not installed (apt-get install postgresql)');
  return false;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHook = false;
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const p of live) p.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
}

/**
 * PostgreSQL refuses to run as root: as root, initdb and postgres run as the `postgres` system
 * user that the Debian package creates, on a data dir it owns. They are started as that user
 * directly (not through runuser), so the signals of stop() and kill() reach the postmaster.
 */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** The processes whose parent is `pid` (the backends of a postmaster), from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the command in parentheses, which may itself hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

export async function startPostgres(): Promise<PostgresInstance> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'fm-postgres-'));
  dirs.add(dir);
  const dataDir = join(dir, 'data');
  const user = serverUser();
  if (user) chownSync(dir, user.uid, user.gid);
  execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], { stdio: 'pipe', ...user });
  const port = await freePort();
  writeFileSync(
    join(dataDir, 'postgresql.auto.conf'),
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'wal_init_zero = off',
      'max_connections = 200',
      "log_min_messages = 'fatal'",
      '',
    ].join('\n'),
  );
  let proc: ChildProcess | undefined;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const urlFor = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;

  const psqlArgs = ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAt'];
  const psql = (sql: string) => execFileSync(join(bin, 'psql'), [...psqlArgs, '-c', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const psqlScript = (script: string) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(join(bin, 'psql'), [...psqlArgs, '-f', '-'], { encoding: 'utf8' }, (err, stdout, stderr) =>
        err ? reject(new Error(stderr.trim() || err.message)) : resolve(stdout),
      );
      child.stdin?.end(script);
    });

  const start = async (): Promise<void> => {
    const child = spawn(join(bin, 'postgres'), ['-D', dataDir], { stdio: 'ignore', ...user });
    proc = child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    await waitFor(
      () => {
        try {
          psql('SELECT 1');
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      `postgres on port ${port}`,
      100,
    );
  };
  const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

  await start();
  let stopped = false;
  return {
    url,
    port,
    urlFor,
    get pid() {
      return proc?.pid;
    },
    psql: psqlScript,
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name}: lower-case letters, digits and _ only`);
      psql(`CREATE DATABASE ${name}`);
      return urlFor(name);
    },
    async kill() {
      if (proc?.pid !== undefined) {
        // The backends of a SIGKILLed postmaster live on and hold the port until they notice.
        const backends = childrenOf(proc.pid);
        proc.kill('SIGKILL');
        for (const pid of backends) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        await exited(proc);
      }
      // A crashed postmaster leaves its lock files; the PID in them may belong to a zombie.
      rmSync(join(dataDir, 'postmaster.pid'), { force: true });
      rmSync(join(dir, `.s.PGSQL.${port}.lock`), { force: true });
    },
    start,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGINT');
        await Promise.race([exited(proc), new Promise((r) => setTimeout(r, 10_000))]);
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}
