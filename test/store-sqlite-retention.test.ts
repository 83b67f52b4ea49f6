import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../common/reading.ts';
import { SqliteReadingStore } from '../gateway/store/sqlite-store.ts';

const DAY = 86_400_000;

describe('SqliteReadingStore retention', () => {
  let dir: string;
  let store: SqliteReadingStore;
  const now = Date.UTC(2026, 0, 31);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fm-sqlite-retention-'));
    store = new SqliteReadingStore({ file: join(dir, 'readings.db'), retentionMs: 30 * DAY });
    await store.init();
  });

  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes readings and events older than the retention and keeps the rest', async () => {
    const reading = (device: string, ageDays: number): Reading => ({ building: 'b1', device, kind: 'tank', metric: 'level_mm', value: ageDays, ts: now - ageDays * DAY, quality: 'good' });
    await store.write(
      [reading('t1', 40), reading('t1', 31), reading('t1', 29), reading('t2', 45), reading('t2', 1)],
      [
        { building: 'b1', device: 'fp', kind: 'fire-panel', event: 'alarm', ts: now - 40 * DAY, attrs: {} },
        { building: 'b1', device: 'fp', kind: 'fire-panel', event: 'restore', ts: now - 2 * DAY, attrs: {} },
      ],
    );
    expect(await store.prune(now)).toBe(4);
    expect(await store.count()).toBe(2);
    expect((await store.latest()).map((r) => `${r.device}=${r.value}`).sort()).toEqual(['t1=29', 't2=1']);
    expect((await store.events({ from: 0, to: now })).map((e) => e.event)).toEqual(['restore']);
    expect(await store.prune(now)).toBe(0);
  });

  it('reopens the same file with its data', async () => {
    const again = new SqliteReadingStore({ file: join(dir, 'readings.db') });
    await again.init();
    expect(await again.count()).toBe(2);
    await again.close();
  });

  it('refuses to work before init() and after close()', async () => {
    const fresh = new SqliteReadingStore({ file: join(dir, 'other.db') });
    await expect(fresh.count()).rejects.toThrow(/init\(\)/);
    await fresh.init();
    await fresh.close();
    await expect(fresh.write([])).rejects.toThrow(/closed/);
  });
});
