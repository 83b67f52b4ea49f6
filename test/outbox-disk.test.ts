import { appendFile, mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskOutbox, OutboxFullError, type DiskOutboxOptions, type OutboxConsumer, type OutboxRecord } from '../gateway/outbox/disk-outbox.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { waitFor } from './harness/ports.ts';

let dir: string;
const open: DiskOutbox[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fm-outbox-'));
});
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
  await rm(dir, { recursive: true, force: true });
});

async function openOutbox(opts: Partial<DiskOutboxOptions> = {}): Promise<DiskOutbox> {
  const o = await DiskOutbox.open({ dir, maxBytes: 64 * 1024 * 1024, whenFull: 'reject-new', consumers: ['store'], ...opts });
  open.push(o);
  return o;
}

async function reopen(o: DiskOutbox, opts: Partial<DiskOutboxOptions> = {}): Promise<DiskOutbox> {
  await o.close();
  open.splice(open.indexOf(o), 1);
  return openOutbox(opts);
}

function payload(n: number, size = 24): Buffer {
  const b = Buffer.alloc(size, n % 251);
  b.writeUInt32LE(n, 0);
  return b;
}

function idOf(r: OutboxRecord): number {
  return r.payload.readUInt32LE(0);
}

/** Reads (and commits) everything after the cursor. */
async function drain(c: OutboxConsumer, batch = 37): Promise<OutboxRecord[]> {
  const all: OutboxRecord[] = [];
  for (;;) {
    const got = await c.read(batch);
    if (got.length === 0) return all;
    all.push(...got.map((r) => ({ seq: r.seq, payload: Buffer.from(r.payload) })));
    await c.commit(got.at(-1)!.seq);
  }
}

async function segmentFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();
}

function captureLogs(): { logger: pino.Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('DiskOutbox: append, read, commit', () => {
  it('gives seqs in append order and serves them after the cursor until committed', async () => {
    const o = await openOutbox();
    const seqs = await Promise.all(Array.from({ length: 100 }, (_, i) => o.append(payload(i))));
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const c = o.consumer('store');
    expect(c.pending).toBe(100);

    const first = await c.read(10);
    expect(first.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(first.map(idOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await c.read(10)).map((r) => r.seq)).toEqual(first.map((r) => r.seq));

    await c.commit(10);
    expect(c.cursor).toBe(10);
    expect(c.pending).toBe(90);
    const byBytes = await c.read(100, 24 * 3);
    expect(byBytes.map((r) => r.seq)).toEqual([11, 12, 13]);
    expect((await c.read(100, 1)).map((r) => r.seq)).toEqual([11]);

    await expect(c.commit(101)).rejects.toThrow(RangeError);
    const rest = await drain(c);
    expect(rest.map(idOf)).toEqual(Array.from({ length: 90 }, (_, i) => i + 10));
    expect(o.stats()).toMatchObject({ lastSeq: 100, appendedRecords: 100, consumers: { store: { cursor: 100, pendingRecords: 0 } } });
  });

  it('wakes a waiting consumer when a record becomes durable, and not before', async () => {
    const o = await openOutbox();
    const c = o.consumer('store');
    // What the outbox holds at the moment each wait ends.
    const waiting = c.waitForData().then((data) => ({ data, lastSeq: o.stats().lastSeq }));
    await o.append(payload(1));
    expect(await waiting).toEqual({ data: true, lastSeq: 1 });
    const afterFirst = c.waitForData(undefined, 1).then((data) => ({ data, lastSeq: o.stats().lastSeq }));
    await o.append(payload(2));
    expect(await afterFirst).toEqual({ data: true, lastSeq: 2 });
    const abort = new AbortController();
    await c.commit(2);
    const aborted = c.waitForData(abort.signal);
    abort.abort();
    expect(await aborted).toBe(false);
  });

  it('resumes at the committed cursors after close and reopen, and seqs go on', async () => {
    let o = await openOutbox({ segmentBytes: 1024 });
    for (let i = 0; i < 200; i++) await o.append(payload(i));
    let c = o.consumer('store');
    const got = await c.read(50);
    await c.commit(got.at(-1)!.seq);

    o = await reopen(o, { segmentBytes: 1024 });
    c = o.consumer('store');
    expect(c.cursor).toBe(50);
    expect(c.pending).toBe(150);
    expect(await o.append(payload(200))).toBe(201);
    const rest = await drain(c, 23);
    expect(rest.map((r) => r.seq)).toEqual(Array.from({ length: 151 }, (_, i) => i + 51));
    expect(rest.map(idOf)).toEqual(Array.from({ length: 151 }, (_, i) => i + 50));

    o = await reopen(o, { segmentBytes: 1024 });
    expect(await o.consumer('store').read(10)).toEqual([]);
    expect(await o.append(payload(201))).toBe(202);
  });

  it('reads from disk a consumer that fell behind the in-memory tail', async () => {
    const o = await openOutbox({ consumers: ['store', 'upstream'], memoryTailBytes: 2048, segmentBytes: 4096 });
    await Promise.all(Array.from({ length: 500 }, (_, i) => o.append(payload(i, 40 + (i % 13)))));
    const up = await drain(o.consumer('upstream'), 64);
    const store = await drain(o.consumer('store'), 7);
    for (const got of [up, store]) {
      expect(got.map((r) => r.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
      expect(got.map((r) => r.payload.length)).toEqual(Array.from({ length: 500 }, (_, i) => 40 + (i % 13)));
      expect(got.every((r, i) => r.payload.equals(payload(i, 40 + (i % 13))))).toBe(true);
    }
  });

  it('reads records larger than its read chunk from disk after a restart', async () => {
    let o = await openOutbox();
    const sizes = [10, 1_500_000, 7, 3_000_000, 100];
    for (const [i, size] of sizes.entries()) await o.append(payload(i, size));
    o = await reopen(o);
    const got = await drain(o.consumer('store'), 2);
    expect(got.map((r) => r.payload.length)).toEqual(sizes);
    expect(got.every((r, i) => r.payload.equals(payload(i, sizes[i])))).toBe(true);
  });

  it('refuses what it cannot take, with reasons', async () => {
    const o = await openOutbox({ maxBytes: 4096 });
    await expect(o.append(Buffer.alloc(5000))).rejects.toThrow(/larger than the outbox/);
    expect(() => o.consumer('upstream')).toThrow(/no consumer "upstream"/);
    await expect(DiskOutbox.open({ dir: join(dir, 'x'), maxBytes: 1 << 20, whenFull: 'reject-new', consumers: ['a/b'] })).rejects.toThrow(/must match/);
    await o.close();
    await expect(o.append(Buffer.alloc(1))).rejects.toThrow(/closed/);
  });

  it('keeps segments until every consumer has passed them, then deletes them', async () => {
    const o = await openOutbox({ consumers: ['store', 'upstream'], segmentBytes: 1024 });
    for (let i = 0; i < 300; i++) await o.append(payload(i));
    const before = await segmentFiles();
    expect(before.length).toBeGreaterThan(5);
    const bytesBefore = o.stats().bytes;

    const fast = await drain(o.consumer('upstream'), 50);
    expect(fast).toHaveLength(300);
    expect(await segmentFiles()).toEqual(before);

    const slow = o.consumer('store');
    const half = await slow.read(150);
    await slow.commit(half.at(-1)!.seq);
    await waitFor(async () => (await segmentFiles()).length < before.length, 10_000, 'delivered segments to be deleted');
    const after = await segmentFiles();
    expect(after).toEqual(before.slice(before.length - after.length));
    expect(o.stats().bytes).toBeLessThan(bytesBefore);
    expect((await drain(slow)).map((r) => r.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 151));
    await waitFor(async () => (await segmentFiles()).length === 1, 10_000, 'all but the active segment to be deleted');
    expect(o.stats()).toMatchObject({ segments: 1, consumers: { store: { pendingRecords: 0 }, upstream: { pendingRecords: 0 } } });
  });

  it('refuses a second open of the same directory', async () => {
    await openOutbox();
    await expect(DiskOutbox.open({ dir, maxBytes: 1 << 20, whenFull: 'reject-new', consumers: ['store'] })).rejects.toThrow(/already open/);
  });
});

describe('DiskOutbox: torn tail after a crash', () => {
  const damage: { name: string; apply: (file: string) => Promise<void> }[] = [
    { name: 'last record cut short', apply: async (f) => truncate(f, (await stat(f)).size - 3) },
    { name: 'half a header', apply: async (f) => appendFile(f, Buffer.from([7, 0, 0, 0, 24, 0, 0])) },
    { name: 'zero-filled tail (power loss)', apply: async (f) => appendFile(f, Buffer.alloc(200)) },
    { name: 'garbage length', apply: async (f) => appendFile(f, Buffer.from('ffffffffffffffff0100000000000000', 'hex')) },
  ];
  it.each(damage)('$name: opens, drops only the torn record, keeps the rest intact', async ({ name, apply }) => {
    let o = await openOutbox();
    for (let i = 0; i < 20; i++) await o.append(payload(i));
    await o.close();
    open.splice(0);
    const files = await segmentFiles();
    await apply(join(dir, files.at(-1)!));

    o = await openOutbox();
    const cut = name === 'last record cut short';
    const kept = cut ? 19 : 20;
    expect((await stat(join(dir, files.at(-1)!))).size).toBe(kept * (16 + 24));
    const got = await drain(o.consumer('store'));
    expect(got.map((r) => r.seq)).toEqual(Array.from({ length: kept }, (_, i) => i + 1));
    expect(got.every((r, i) => r.payload.equals(payload(i)))).toBe(true);
    expect(await o.append(payload(99))).toBe(kept + 1);
    expect((await o.consumer('store').read(5)).map(idOf)).toEqual([99]);
  });
});

describe('DiskOutbox: full', () => {
  const maxBytes = 8192;
  const recordBytes = 16 + 200;

  it('reject-new refuses with OutboxFullError, counts it, and accepts again once space frees', async () => {
    const metrics = new MetricsRegistry();
    const { logger, lines } = captureLogs();
    const o = await openOutbox({ maxBytes, whenFull: 'reject-new', metrics, logger });
    const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => o.append(payload(i, 200))));
    const accepted = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(accepted).toBe(Math.floor(maxBytes / recordBytes));
    expect(refused).toHaveLength(60 - accepted);
    expect(refused[0]).toBeInstanceOf(OutboxFullError);
    expect((refused[0] as Error).message).toMatch(/gateway\.outbox\.maxBytes/);
    expect((refused[0] as Error).message).toMatch(/whenFull/);
    expect(o.stats().rejectedRecords).toBe(refused.length);
    expect(metrics.find('fm_outbox_rejected_total')?.get()).toBe(refused.length);
    expect(metrics.find('fm_outbox_appended_records_total')?.get()).toBe(accepted);
    expect(lines.filter((l) => l.level === 40 && /outbox full/.test(l.msg))).toHaveLength(1);

    const got = await drain(o.consumer('store'), 10);
    expect(got.map(idOf)).toEqual(Array.from({ length: accepted }, (_, i) => i));
    expect(o.stats().bytes).toBeLessThanOrEqual(maxBytes / 4);
    expect(await o.append(payload(1000, 200))).toBe(accepted + 1);
  });

  it('drop-oldest deletes the oldest records, counts them for the consumers that lost them, and keeps going', async () => {
    const metrics = new MetricsRegistry();
    const { logger, lines } = captureLogs();
    const o = await openOutbox({ maxBytes, whenFull: 'drop-oldest', consumers: ['store', 'upstream'], metrics, logger });
    const upstream = o.consumer('upstream');
    for (let i = 0; i < 100; i++) {
      const seq = await o.append(payload(i, 200));
      await upstream.commit(seq);
    }
    const s = o.stats();
    expect(s.bytes).toBeLessThanOrEqual(maxBytes);
    expect(s.consumers.upstream).toMatchObject({ droppedRecords: 0, pendingRecords: 0 });
    const dropped = s.consumers.store!.droppedRecords;
    expect(dropped).toBeGreaterThan(50);
    expect(s.consumers.store!.droppedBytes).toBe(dropped * recordBytes);
    expect(metrics.find('fm_outbox_dropped_records_total')?.get({ consumer: 'store' })).toBe(dropped);
    expect(metrics.find('fm_outbox_dropped_records_total')?.get({ consumer: 'upstream' })).toBe(0);
    expect(metrics.render()).toMatch(/fm_outbox_pending_records\{consumer="store"\} \d+/);
    expect(lines.filter((l) => l.level === 40 && /dropped the oldest/.test(l.msg))).toHaveLength(1);

    const got = await drain(o.consumer('store'), 8);
    expect(got.map((r) => r.seq)).toEqual(Array.from({ length: 100 - dropped }, (_, i) => dropped + 1 + i));
    expect(got.every((r) => r.payload.equals(payload(r.seq - 1, 200)))).toBe(true);
    expect(await o.append(payload(100, 200))).toBe(101);
    expect((await o.consumer('store').read(10)).map((r) => r.seq)).toEqual([101]);
  });
});
