import { expect, it } from 'vitest';
import { manualClock, newEngine, reading } from './fixtures/rules/harness.ts';
import { describeRecords, type RecordsBackend } from './harness/records.ts';

const rules = { devices: { 'tank-1': { 'tank-level-high': { forMs: 30_000, offDelayMs: 10_000, deadband: 50 }, 'device-offline': { enabled: false } } } };

/** A level of 3900 mm starts the 30 s on-delay at `base`; the process dies and a new engine restores at `base + restartAt`. */
async function restartedDuringOnDelay(backend: RecordsBackend, restartAt = 20_000, restartRules: Record<string, unknown> = rules) {
  const db = await backend.database();
  const clock = manualClock();
  const base = clock.now();
  const first = newEngine({ client: await db.open(), clock: clock.now, rules });
  first.engine.onReading(reading('tank-1', 'level_mm', 3900, base));
  await first.engine.settled();
  const timersBefore = await first.store.timers();
  await first.close();
  clock.set(base + restartAt);
  const second = newEngine({ client: await db.open(), clock: clock.now, rules: restartRules });
  await second.engine.restore(clock.now());
  return { base, second, timersBefore };
}

describeRecords('restart during a running on-delay (same records database, new engine)', (backend) => {
  it.each([
    { restartAt: 20_000, ticks: [20_000, 25_000, 29_999], expectRaisedBeforeDue: false },
    { restartAt: 45_000, ticks: [], expectRaisedBeforeDue: true },
  ])('restart at $restartAt ms raises at the original due time (30 s)', async ({ restartAt, ticks, expectRaisedBeforeDue }) => {
    const db = await backend.database();
    const clock = manualClock();
    const base = clock.now();
    const first = newEngine({ client: await db.open(), clock: clock.now, rules });
    first.engine.onReading(reading('tank-1', 'level_mm', 3900, base));
    clock.set(base + 10_000);
    first.engine.tick(clock.now());
    await first.engine.settled();
    expect(first.events).toEqual([]);
    await first.close();

    clock.set(base + restartAt);
    const second = newEngine({ client: await db.open(), clock: clock.now, rules });
    await second.engine.restore(clock.now());
    for (const t of ticks) second.engine.tick(base + t);
    await second.engine.settled();
    expect(second.events.length > 0).toBe(expectRaisedBeforeDue);
    second.engine.tick(base + Math.max(restartAt, 30_000));
    await second.engine.settled();
    expect(second.events.map((e) => e.type)).toEqual(['raised']);
    expect(second.events[0]!.alarm).toMatchObject({ raisedAt: base + 30_000, value: 3900, limit: 3800 });
    expect(second.engine.nextDue()).not.toBe(base + 30_000);
    await second.close();
  });

  it('the resumed on-delay raises with the newest reading seen after the restart', async () => {
    const { base, second } = await restartedDuringOnDelay(backend);
    // Replayed from before the on-delay started: history the first engine had already passed, it cancels nothing.
    second.engine.onReading(reading('tank-1', 'level_mm', 3700, base - 1_000));
    second.engine.onReading(reading('tank-1', 'level_mm', 3950, base + 25_000));
    second.engine.tick(base + 30_000);
    await second.engine.settled();
    expect(second.events.map((e) => [e.type, e.alarm.value, e.alarm.limit, e.alarm.raisedAt])).toEqual([['raised', 3950, 3800, base + 30_000]]);
    await second.close();
  });

  it('drops a pending on-delay whose reading no longer breaks the limit of the site file it restarts with', async () => {
    const raised = { devices: { 'tank-1': { ...rules.devices['tank-1'], 'tank-level-high': { ...rules.devices['tank-1']['tank-level-high'], limit: 3950 } } } };
    const { base, second, timersBefore } = await restartedDuringOnDelay(backend, 20_000, raised);
    expect(timersBefore).toEqual([expect.objectContaining({ phase: 'on-delay', value: 3900, limit: 3800 })]);
    second.engine.tick(base + 60_000);
    await second.engine.settled();
    expect(second.events).toEqual([]);
    expect(await second.store.timers()).toEqual([]);
    await second.close();
  });

  it('a normal reading after the restart cancels the resumed on-delay', async () => {
    const { base, second } = await restartedDuringOnDelay(backend);
    expect(second.engine.nextDue()).toBe(base + 30_000);
    second.engine.onReading(reading('tank-1', 'level_mm', 3700, base + 21_000));
    second.engine.tick(base + 60_000);
    await second.engine.settled();
    expect(second.events).toEqual([]);
    expect(await second.store.timers()).toEqual([]);
    await second.close();
  });

  it('an alarm raised before the restart is cleared by the new engine, not raised again', async () => {
    const db = await backend.database();
    const clock = manualClock();
    const base = clock.now();
    const first = newEngine({ client: await db.open(), clock: clock.now, rules });
    first.engine.onReading(reading('tank-1', 'level_mm', 3900, base));
    first.engine.tick(base + 30_000);
    await first.engine.settled();
    expect(first.events.map((e) => e.type)).toEqual(['raised']);
    const id = first.events[0]!.alarm.id;
    // The value drops and the off-delay starts; then the process dies.
    first.engine.onReading(reading('tank-1', 'level_mm', 3600, base + 40_000));
    await first.close();

    clock.set(base + 45_000);
    const second = newEngine({ client: await db.open(), clock: clock.now, rules });
    await second.engine.restore(clock.now());
    expect(second.engine.alarms.listActive().map((a) => a.id)).toEqual([id]);
    second.engine.tick(base + 49_999);
    await second.engine.settled();
    expect(second.events).toEqual([]);
    second.engine.tick(base + 50_000);
    await second.engine.settled();
    expect(second.events.map((e) => [e.type, e.alarm.id, e.alarm.state, e.alarm.clearedAt])).toEqual([
      ['cleared', id, 'cleared-unacknowledged', base + 50_000],
    ]);
    await second.close();
  });
});
