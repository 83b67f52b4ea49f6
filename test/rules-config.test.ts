import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEVICE_KINDS } from '../common/reading.ts';
import { loadSiteFile, SiteConfigError } from '../common/site/load.ts';
import { DEFAULT_RULES } from '../server/rules/default-rules.ts';
import { checkRules, resolveRules } from '../server/rules/rule-config.ts';
import { event, manualClock, newEngine, reading, testSite } from './fixtures/rules/harness.ts';

interface OverrideFixture {
  rules: Record<string, unknown>;
  expect: { path: string; reason: string }[];
}

const dir = new URL('./fixtures/rules/overrides/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => [f.replace(/\.yaml$/, ''), parse(readFileSync(new URL(f, dir), 'utf8')) as OverrideFixture] as const);

describe.each(fixtures)('site file rule overrides: %s', (_name, fx) => {
  it('is refused with every problem naming its path and reason', () => {
    const site = testSite(fx.rules);
    const { problems } = checkRules(site);
    expect(problems).toHaveLength(fx.expect.length);
    for (const want of fx.expect) {
      expect(problems, `${want.path}: ${want.reason}`).toContainEqual({ path: want.path, reason: expect.stringContaining(want.reason) });
    }
    let thrown: unknown;
    try {
      resolveRules(site);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SiteConfigError);
    expect((thrown as SiteConfigError).message).toContain(`rules-test.yaml: invalid site file`);
    expect((thrown as SiteConfigError).message).toContain(fx.expect[0]!.path);
  });
});

describe('rule configuration', () => {
  it('the shipped demo estate and every default rule are valid', () => {
    const { config, problems } = checkRules(loadSiteFile());
    expect(problems).toEqual([]);
    expect(config.devices.size).toBe(179);
    for (const kind of DEVICE_KINDS) {
      expect(DEFAULT_RULES[kind].length).toBeGreaterThan(0);
      for (const rule of DEFAULT_RULES[kind]) {
        expect(rule.title.en).not.toBe('');
        expect(rule.title.zh).not.toBe('');
      }
    }
  });

  it('applies defaults, then per-kind, then per-device overrides; a title may be overridden in one language', () => {
    const site = testSite({
      kinds: { tank: { 'tank-level-low': { forMs: 60_000, severity: 'critical' } } },
      devices: {
        'tank-1': { 'tank-level-low': { forMs: 5_000, title: { en: '{deviceName} nearly empty' } }, 'tank-level-high': { enabled: false } },
      },
    });
    const rules = resolveRules(site).devices.get('tank-1')!.rules;
    expect(rules.map((r) => r.id)).toEqual(['tank-level-low', 'device-offline']);
    expect(rules[0]).toMatchObject({ forMs: 5_000, severity: 'critical', limit: 800, offDelayMs: 10_000, title: { en: '{deviceName} nearly empty', zh: expect.stringContaining('水位过低') } });
  });

  it('a new rule from the site file runs like a default one', async () => {
    const clock = manualClock();
    const { engine, events, close } = newEngine({
      clock: clock.now,
      rules: {
        kinds: {
          tank: {
            'pump-running-at-low-level': {
              type: 'threshold',
              metric: 'pump_running',
              op: 'above',
              limit: 0.5,
              category: 'general',
              severity: 'low',
              title: { en: '{deviceName} pump running', zh: '{deviceName} 水泵运行' },
            },
          },
          door: { 'door-card-denied': { type: 'event', raiseOn: 'card_denied', clearOn: ['card_granted'], category: 'access-security', severity: 'low', title: { en: 'Card denied at {deviceName}', zh: '{deviceName} 刷卡被拒' } } },
        },
      },
    });
    engine.onReading(reading('tank-1', 'pump_running', 1, clock.now()));
    engine.onEvent(event('door-1', 'card_denied', clock.now(), { card: '0042' }));
    await engine.settled();
    expect(events.map((e) => [e.type, e.alarm.key, e.alarm.title.en])).toEqual([
      ['raised', 'tank-1/pump-running-at-low-level', 'Roof tank pump running'],
      ['raised', 'door-1/door-card-denied', 'Card denied at Lobby door'],
    ]);
    await engine.settled();
    expect(engine.rulesOf('door-1').map((r) => r.id)).toEqual(['door-forced', 'door-held-open', 'device-offline', 'door-card-denied']);
    await close();
  });

  it('the engine refuses to start on an invalid rules section', () => {
    expect(() => newEngine({ clock: Date.now, rules: { kinds: { tank: { 'tank-level-low': { deadband: -1 } } } } })).toThrow(
      /\/rules\/kinds\/tank\/tank-level-low\/deadband: must be >= 0/,
    );
  });
});
