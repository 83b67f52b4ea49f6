import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './ports.ts';
import { requireBinary } from './services.ts';

const run = promisify(execFile);

/** The directory of initdb, postgres and psql: Debian keeps it off PATH, in /usr/lib/postgresql/<version>/bin. */
function postgresBinDir(): string | undefined {
  const onPath = (() => {
    try {
      return execFileSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  })();
  if (onPath) return join(realpathSync(onPath), '..');
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(root, versions[0], 'bin');
}

/** True when the machine has a PostgreSQL server; otherwise prints why tests skip (throws under CI=true). */
export function hasPostgres(): boolean {
  if (postgresBinDir()) return true;
  return requireBinary('initdb') !== undefined;
}

export interface PostgresInstance {
  /** Runs a psql script; resolves with what psql printed (unaligned rows, no headers), rejects with psql's error. */
  psql(script: string): Promise<string>;
  /** Stops the server and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** The uid and gid of `postgres`: the server refuses to run as root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** A throwaway PostgreSQL server in a temp dir, reachable on a Unix socket there (no TCP). */
export async function startPostgres(): Promise<PostgresInstance> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const dir = await mkdtemp(join(tmpdir(), 'fm-postgres-'));
  const data = join(dir, 'data');
  const user = serverUser();
  if (user) await chown(dir, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], { ...as, env: { ...process.env, LC_ALL: 'C' } });
  const port = await freePort();
  const child: ChildProcess = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=', '-c', 'fsync=off'], {
    ...as,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const psql = async (script: string): Promise<string> => {
    const args = ['-h', dir, '-p', String(port), '-U', 'postgres', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', script];
    return new Promise((resolve, reject) => {
      const p = spawn(join(bin, 'psql'), args, { ...as, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`psql exited ${code}: ${out.trim()}`))));
    });
  };

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (!exited) {
        child.kill('SIGINT');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    const died = exit.then(() => Promise.reject(new Error(`postgres exited: ${log.trim()}`)));
    await Promise.race([died, waitFor(async () => (await psql('SELECT 1').then(() => true, () => false)) || undefined, 30_000, `postgres on ${dir}`, 100)]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { psql, stop };
}
