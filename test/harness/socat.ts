import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './ports.ts';
import { requireBinary } from './services.ts';

/** Two ends of a virtual serial line: what one end writes, the other reads, as on a real RS-485 pair. */
export interface SerialPair {
  /** Path of the device end (where a simulated slave or meter listens). */
  devicePath: string;
  /** Path of the gateway end (where the master opens its serial port). */
  gatewayPath: string;
  /** Kills socat and removes the links' directory. Idempotent. */
  stop(): Promise<void>;
}

/** True when socat is installed; otherwise prints why tests skip (throws under CI=true). */
export function hasSocat(): boolean {
  return requireBinary('socat') !== undefined;
}

/** A socat pty pair in a temp dir: a real serial line between two processes or two ends of one. */
export async function startSerialPair(): Promise<SerialPair> {
  const bin = requireBinary('socat');
  if (!bin) throw new Error('socat is not on PATH (apt-get install socat)');
  const dir = await mkdtemp(join(tmpdir(), 'fm-serial-'));
  const devicePath = join(dir, 'device');
  const gatewayPath = join(dir, 'gateway');
  const proc: ChildProcess = spawn(bin, ['-d', '-d', `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${gatewayPath}`], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => existsSync(devicePath) && existsSync(gatewayPath), 10_000, 'socat pty links');
  } catch (err) {
    await stop();
    throw err;
  }
  return { devicePath, gatewayPath, stop };
}
