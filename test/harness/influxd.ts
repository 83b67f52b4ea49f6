import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';
import { requireBinary } from './services.ts';

export interface InfluxInstance {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  dataDir: string;
  /** The running influxd's process id (benchmarks sample its CPU); undefined while paused. */
  readonly pid: number | undefined;
  /** SIGTERM, wait for exit, remove the data dir. */
  stop(): Promise<void>;
  /** SIGKILL, keeping the data dir (call stop() afterwards to clean up). */
  kill(): Promise<void>;
  /** Stops the process, keeping its data: an outage. */
  pause(): Promise<void>;
  /** Starts it again on the same port and data dir. */
  resume(): Promise<void>;
}

export interface InfluxdOptions {
  /** Bounded wait for /ping after each start. */
  startTimeoutMs?: number;
  /** Keep the data dir after stop() (for post-mortems). */
  keepData?: boolean;
  /** Run continuous queries (off by default: tests roll up through the gateway's own queries). */
  continuousQueries?: boolean;
  /** How often InfluxDB drops shards past their retention policy (its default: 30m), e.g. `1s`. */
  retentionCheckInterval?: string;
  /** Write the cache to TSM files and compact them after this long without writes (its defaults: 10m and 4h), e.g. `5s`: for measuring sizes on disk. */
  compactAfter?: string;
}

/** Running influxd processes and the data dirs to remove when the test process exits. */
const live = new Set<ChildProcess>();
const dataDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * Rewrites the output of `influxd config` section by section: temp dirs, loopback ports,
 * and every optional service (reporting, monitor store, UDP, Graphite, ...) off.
 */
export function rewriteInfluxdConfig(defaults: string, dataDir: string, httpPort: number, rpcPort: number, opts: InfluxdOptions = {}): string {
  const set: Record<string, Record<string, string>> = {
    '': { 'reporting-enabled': 'false', 'bind-address': `"127.0.0.1:${rpcPort}"` },
    '[meta]': { dir: `"${join(dataDir, 'meta')}"`, 'logging-enabled': 'false' },
    '[data]': {
      dir: `"${join(dataDir, 'data')}"`,
      'wal-dir': `"${join(dataDir, 'wal')}"`,
      'query-log-enabled': 'false',
      'cache-max-memory-size': '268435456',
      ...(opts.compactAfter ? { 'cache-snapshot-write-cold-duration': `"${opts.compactAfter}"`, 'compact-full-write-cold-duration': `"${opts.compactAfter}"` } : {}),
    },
    ...(opts.retentionCheckInterval ? { '[retention]': { 'check-interval': `"${opts.retentionCheckInterval}"` } } : {}),
    '[monitor]': { 'store-enabled': 'false' },
    '[subscriber]': { enabled: 'false' },
    '[continuous_queries]': { enabled: opts.continuousQueries ? 'true' : 'false', 'log-enabled': 'false' },
    '[http]': {
      'bind-address': `"127.0.0.1:${httpPort}"`,
      'log-enabled': 'false',
      'pprof-enabled': 'false',
      'unix-socket-enabled': 'false',
      'bind-socket': `"${join(dataDir, 'influxd.sock')}"`,
    },
    '[logging]': { level: '"error"', 'suppress-logo': 'true' },
    '[ifql]': { enabled: 'false' },
    '[[graphite]]': { enabled: 'false' },
    '[[collectd]]': { enabled: 'false' },
    '[[opentsdb]]': { enabled: 'false' },
    '[[udp]]': { enabled: 'false' },
  };
  let section = '';
  return defaults
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed.startsWith('[')) {
        section = trimmed;
        return line;
      }
      const m = /^(\s*)([A-Za-z0-9_-]+)\s*=/.exec(line);
      const override = m ? set[section]?.[m[2]!] : undefined;
      return m && override !== undefined ? `${m[1]}${m[2]} = ${override}` : line;
    })
    .join('\n');
}

/** Environment without INFLUXDB_* variables, which would override the config file. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('INFLUXDB_')) env[k] = v;
  return env;
}

/**
 * Starts a real `influxd` (1.x) on free loopback ports with a temp data dir and waits until /ping
 * answers. The process is killed when the test process exits, even by SIGKILL (a watchdog reads
 * our end of a pipe and kills influxd when it closes).
 */
export async function startInfluxd(opts: InfluxdOptions = {}): Promise<InfluxInstance> {
  const bin = requireBinary('influxd');
  if (!bin) throw new Error('influxd is not installed (apt-get install influxdb)');
  installExitHook();
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const dataDir = mkdtempSync(join(tmpdir(), 'fm-influxd-'));
  if (!opts.keepData) dataDirs.add(dataDir);
  const port = await freePort();
  let rpcPort = await freePort();
  while (rpcPort === port) rpcPort = await freePort();
  const configFile = join(dataDir, 'influxd.conf');
  const defaults = execFileSync(bin, ['config'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: cleanEnv() });
  writeFileSync(configFile, rewriteInfluxdConfig(defaults, dataDir, port, rpcPort, opts));
  const logFile = join(dataDir, 'influxd.log');
  const url = `http://127.0.0.1:${port}`;

  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    const log = openSync(logFile, 'a');
    const proc = spawn(bin, ['-config', configFile], { stdio: ['ignore', 'ignore', log], env: cleanEnv() });
    closeSync(log);
    child = proc;
    live.add(proc);
    let dog: ChildProcess | undefined;
    exited = new Promise<void>((resolve) => {
      proc.once('exit', () => {
        live.delete(proc);
        dog?.kill('SIGKILL');
        if (child === proc) child = undefined;
        resolve();
      });
    });
    if (proc.pid !== undefined) {
      dog = spawn('sh', ['-c', 'while read -r _; do :; done; kill -9 "$0" 2>/dev/null', String(proc.pid)], {
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      dog.on('error', () => undefined);
      dog.unref();
      (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      watchdog = dog;
    }
    let started = false;
    const ready = waitFor(
      async () => (await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) })).status === 204,
      startTimeoutMs,
      `influxd /ping on ${url}`,
      100,
    );
    const died = exited.then(() => {
      if (!started) throw new Error(`influxd exited during start-up`);
    });
    try {
      await Promise.race([ready, died]);
      started = true;
    } catch (err) {
      started = true;
      ready.catch(() => undefined);
      await terminate('SIGKILL');
      throw new Error(`${(err as Error).message}; its log (${logFile}):\n${tail(logFile)}`);
    }
  };

  const terminate = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const proc = child;
    const dog = watchdog;
    watchdog = undefined;
    dog?.kill('SIGKILL');
    if (!proc) return;
    proc.kill(signal);
    const escalate = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(escalate);
  };

  await start();
  return {
    url,
    port,
    dataDir,
    get pid() {
      return child?.pid;
    },
    stop: async () => {
      await terminate('SIGTERM');
      if (!opts.keepData) {
        rmSync(dataDir, { recursive: true, force: true });
        dataDirs.delete(dataDir);
      }
    },
    kill: () => terminate('SIGKILL'),
    pause: () => terminate('SIGTERM'),
    resume: async () => {
      if (child) return;
      await start();
    },
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-10).join('\n');
  } catch {
    return '';
  }
}
