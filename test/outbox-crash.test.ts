import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBatch } from '../gateway/outbox/batch-codec.ts';
import { DiskOutbox, type OutboxRecord } from '../gateway/outbox/disk-outbox.ts';
import { waitFor } from './harness/ports.ts';

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('DiskOutbox: SIGKILL while appending', () => {
  it('keeps every acknowledged record, intact, in order, once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fm-outbox-crash-'));
    dirs.push(dir);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/outbox/writer.ts', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));

    // Enough acknowledged appends to span several 64 KiB segments.
    await waitFor(() => out.split('\n').length > 4100 || child.exitCode !== null, 45_000, 'the writer to acknowledge records');
    expect(child.exitCode, `writer exited early: ${err}`).toBeNull();
    child.kill('SIGKILL');
    await exited;

    const acked = new Map<number, number>();
    for (const line of out.split('\n').slice(0, -1)) {
      if (line === 'ready') continue;
      const [seq, n] = line.split(' ').map(Number) as [number, number];
      expect(acked.has(seq)).toBe(false);
      acked.set(seq, n);
    }
    expect(acked.size).toBeGreaterThan(4000);
    expect((await readdir(dir)).filter((f) => f.endsWith('.seg')).length).toBeGreaterThan(2);

    const outbox = await DiskOutbox.open({ dir, maxBytes: 256 * 1024 * 1024, whenFull: 'reject-new', consumers: ['store'] });
    try {
      const c = outbox.consumer('store');
      const records: OutboxRecord[] = [];
      for (;;) {
        const got = await c.read(1000);
        if (got.length === 0) break;
        records.push(...got);
        await c.commit(got.at(-1)!.seq);
      }
      // Contiguous from 1: nothing duplicated, nothing missing in between.
      expect(records.map((r) => r.seq)).toEqual(Array.from({ length: records.length }, (_, i) => i + 1));
      const valueOf = new Map(records.map((r) => [r.seq, decodeBatch(r.payload).readings[0]?.value]));
      for (const [seq, n] of acked) expect(valueOf.get(seq), `acknowledged seq ${seq}`).toBe(n);
      expect(new Set(valueOf.values()).size).toBe(records.length);
    } finally {
      await outbox.close();
    }
  });
});
