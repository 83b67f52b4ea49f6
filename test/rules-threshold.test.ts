import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manualClock, newEngine, reading } from './fixtures/rules/harness.ts';

interface ThresholdFixture {
  about: string;
  ruleId?: string;
  rule: Record<string, unknown>;
  /** [ms after start, value, quality?] */
  series: [number, number | null, ('good' | 'uncertain' | 'bad')?][];
  /** Extra tick times (ms after start); the engine also ticks at every reading. */
  ticks?: number[];
  expect: string[];
}

const dir = new URL('./fixtures/rules/threshold/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as ThresholdFixture] as const);

describe.each(fixtures)('threshold: %s', (_name, fx) => {
  it(fx.about, async () => {
    const ruleId = fx.ruleId ?? 'tank-level-high';
    const other = ruleId === 'tank-level-high' ? 'tank-level-low' : 'tank-level-high';
    const clock = manualClock();
    const base = clock.now();
    const { engine, events, close } = newEngine({
      clock: clock.now,
      rules: { devices: { 'tank-1': { [ruleId]: fx.rule, [other]: { enabled: false }, 'device-offline': { enabled: false } } } },
    });
    const steps = [
      ...fx.series.map(([t, value, quality], i) => ({ t, i, run: () => engine.onReading(reading('tank-1', 'level_mm', value, base + t, quality ?? 'good')) })),
      ...(fx.ticks ?? []).map((t) => ({ t, i: Infinity, run: () => undefined })),
    ];
    // Readings keep their order (out-of-order ones included); ticks go between them by time.
    const ordered = [...steps.filter((s) => s.i !== Infinity)];
    for (const tick of steps.filter((s) => s.i === Infinity)) {
      const at = ordered.findIndex((s) => s.t > tick.t);
      ordered.splice(at === -1 ? ordered.length : at, 0, tick);
    }
    for (const s of ordered) {
      clock.set(Math.max(clock.now(), base + s.t));
      s.run();
      engine.tick(clock.now());
    }
    await engine.settled();
    const got = events
      .filter((e) => e.alarm.ruleId === ruleId)
      .map((e) => `${e.type}@${(e.type === 'raised' ? e.alarm.raisedAt : e.type === 'cleared' ? e.alarm.clearedAt! : e.alarm.updatedAt) - base}`);
    await engine.settled();
    expect(got).toEqual(fx.expect);
    const raised = events.find((e) => e.type === 'raised' && e.alarm.ruleId === ruleId);
    expect(events.filter((e) => e.alarm.device === 'tank-1' && e.alarm.ruleId !== ruleId).map((e) => e.alarm.key)).toEqual([]);
    if (raised) {
      await engine.settled();
      expect(raised.alarm.limit).toBe(ruleId === 'tank-level-high' ? 3800 : 800);
      expect(raised.alarm.title.en).toContain('Roof tank');
      expect(raised.alarm.title.zh).toMatch(/水位/);
    }
    await close();
  });
});
