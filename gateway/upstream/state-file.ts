import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { UpstreamState } from '../../common/topics.ts';
import { replaceFile } from '../replace-file.ts';

/** The merged states by stateKey(building, device). */
export type UpstreamStates = Map<string, UpstreamState>;

export function stateKey(building: string, device: string): string {
  return `${building}/${device}`;
}

/** Building and device of a stateKey(); a building id holds no `/`. */
export function splitStateKey(key: string): [building: string, device: string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

interface StateFileBody {
  version: 1;
  states: { building: string; device: string; state: UpstreamState }[];
}

const QUALITIES = new Set(['good', 'uncertain', 'bad']);

/**
 * Reads the states written by writeUpstreamStates(); undefined when there is no file. Throws when
 * the file cannot be read or is not a state file, naming the path and the reason.
 */
export async function readUpstreamStates(path: string): Promise<UpstreamStates | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not JSON: ${(err as Error).message}`);
  }
  if (!isObject(body) || body.version !== 1 || !Array.isArray(body.states)) throw new Error(`${path}: not an upstream state file (version 1)`);
  const states: UpstreamStates = new Map();
  for (const [i, entry] of body.states.entries()) {
    if (!isObject(entry) || !isId(entry.building) || typeof entry.device !== 'string' || entry.device === '' || !isState(entry.state)) {
      throw new Error(`${path}: states[${i}] is not a device state`);
    }
    states.set(stateKey(entry.building, entry.device), entry.state);
  }
  return states;
}

/** Replaces the file atomically (temp file, fsync, rename, fsync of the directory): a crash leaves the old or the new file. */
export async function writeUpstreamStates(path: string, states: UpstreamStates): Promise<void> {
  const body: StateFileBody = { version: 1, states: [] };
  for (const [key, state] of states) {
    const [building, device] = splitStateKey(key);
    body.states.push({ building, device, state });
  }
  // Serialised before the first await, so deliveries merging meanwhile cannot tear the snapshot.
  const text = `${JSON.stringify(body)}\n`;
  await mkdir(dirname(path), { recursive: true });
  await replaceFile(path, text);
}

/**
 * Writes the states at most once per `intervalMs`: request() after each delivery, flush() on stop.
 * A failed write is handed to `onError` and retried at the next request.
 */
export class UpstreamStateWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private lastWriteAt = 0;

  constructor(
    private readonly path: string,
    private readonly states: UpstreamStates,
    private readonly onError: (err: Error) => void,
    private readonly intervalMs = 1000,
  ) {}

  request(): void {
    this.dirty = true;
    if (this.timer || this.writing) return;
    this.timer = setTimeout(() => void this.write(), Math.max(0, this.lastWriteAt + this.intervalMs - Date.now()));
    this.timer.unref();
  }

  /** Writes now what was requested and not yet written; resolves once it is on disk (or failed). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    if (this.dirty) await this.write(false);
  }

  private write(again = true): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = false;
    this.lastWriteAt = Date.now();
    let failed = false;
    this.writing = writeUpstreamStates(this.path, this.states)
      .catch((err: unknown) => {
        failed = true;
        this.dirty = true;
        this.onError(new Error(`upstream state not written to ${this.path}: ${err instanceof Error ? err.message : String(err)}`));
      })
      .finally(() => {
        this.writing = undefined;
        // Deliveries during the write ask again; a failed write waits for the next delivery or stop.
        if (again && this.dirty && !failed) this.request();
      });
    return this.writing;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && v !== '' && !v.includes('/');
}

function isState(v: unknown): v is UpstreamState {
  if (!isObject(v) || !Number.isFinite(v.ts) || typeof v.gateway !== 'string' || typeof v.kind !== 'string' || !isObject(v.metrics)) return false;
  if (v.unit !== undefined && typeof v.unit !== 'string') return false;
  return Object.values(v.metrics).every(
    (m) =>
      isObject(m) &&
      (m.value === null || Number.isFinite(m.value)) &&
      typeof m.quality === 'string' &&
      QUALITIES.has(m.quality) &&
      Number.isFinite(m.ts) &&
      (m.engUnit === undefined || typeof m.engUnit === 'string'),
  );
}
