import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import { freePort, waitFor } from './ports.ts';
import { requireBinary } from './services.ts';

export interface MosquittoInstance {
  url: string;
  port: number;
  /** The broker's process id (benchmarks sample its CPU). */
  pid: number | undefined;
  /** Stops the broker (SIGTERM, then SIGKILL) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  /** Configuration lines after the listener line (which the harness writes), given the temp dir. */
  config?: (dir: string) => string[] | Promise<string[]>;
  /** The login that checks the broker is up (default anonymous). */
  probe?: IClientOptions;
}

/** True when the machine has mosquitto; otherwise prints why tests skip (throws under CI=true). */
export function hasMosquitto(): boolean {
  return requireBinary('mosquitto') !== undefined;
}

/**
 * A real Mosquitto 2.x on a free loopback port with a temp config. Queues are unbounded so that
 * benchmarks and gateway-restart tests never lose messages to broker limits.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoInstance> {
  const bin = requireBinary('mosquitto');
  if (!bin) throw new Error('mosquitto is not on PATH (apt-get install mosquitto)');
  const dir = await mkdtemp(join(tmpdir(), 'fm-mosquitto-'));
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  await writeFile(
    config,
    options.config ? [`listener ${port} 127.0.0.1`, ...(await options.config(dir)), ''].join('\n') : [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // 0: no limit on unacknowledged QoS 1 messages in flight to one client.
      'max_inflight_messages 0',
      'max_queued_messages 10000000',
      'max_queued_bytes 0',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );

  const child: ChildProcess = spawn(bin, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));

  const url = `mqtt://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exit;
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`mosquitto exited: ${stderr.trim()}`);
        return canConnect(url, options.probe ?? {});
      },
      15_000,
      `mosquitto on port ${port}`,
      50,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, pid: child.pid, stop };
}

async function canConnect(url: string, login: IClientOptions): Promise<boolean> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 1000, ...login });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('closed')));
    });
    return true;
  } catch {
    return false;
  } finally {
    client.end(true);
  }
}
