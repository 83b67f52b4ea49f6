import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_SITE_FILE, SiteConfigError, interpolateEnvironment, loadSiteFile } from '../common/site/load.ts';

const fixtures = join(import.meta.dirname, 'fixtures/site');
const broken = readdirSync(fixtures)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => {
    const file = join(fixtures, f);
    const expected = /^# expect: (.*)$/m.exec(readFileSync(file, 'utf8'))?.[1];
    return { name: f, file, expected: expected ?? '' };
  });

describe('demo estate', () => {
  const site = loadSiteFile(DEMO_SITE_FILE);

  it('has two residential towers and an office block', () => {
    expect(site.buildings.map((b) => [b.id, b.type])).toEqual([
      ['T1', 'residential'],
      ['T2', 'residential'],
      ['OB', 'office'],
    ]);
    expect(site.site.timezone).toBe('Asia/Shanghai');
    expect(site.site.demo).toBe(true);
  });

  it.each(['T1', 'T2', 'OB'])('%s has a roof tank, a fire panel, door controllers and emergency buttons', (id) => {
    const kinds = site.buildings.find((b) => b.id === id)!.devices.map((d) => d.kind);
    for (const k of ['tank', 'fire-panel', 'door', 'emergency-button'] as const) expect(kinds).toContain(k);
  });

  it.each(['T1', 'T2'])('tower %s has at least 20 units, each with water, electricity and gas meters', (id) => {
    const b = site.buildings.find((x) => x.id === id)!;
    expect(b.units.length).toBeGreaterThanOrEqual(20);
    for (const u of b.units) {
      const kinds = b.devices.filter((d) => d.unit === u.id).map((d) => d.kind).sort();
      expect(kinds).toEqual(['meter-electric', 'meter-gas', 'meter-water']);
    }
  });

  it('gives every Modbus device a profile and every MQTT device the default topics', () => {
    for (const d of site.devices) {
      if (d.modbus) expect(d.modbus.profile.kind).toBe(d.kind);
      if (d.mqtt) expect(d.mqtt.telemetryTopic).toBe(`site/${d.building}/${d.id}/telemetry`);
    }
  });
});

describe.each(broken)('broken site file $name', ({ file, expected }) => {
  it('is refused with an error naming the file, the path and the reason', () => {
    let error: unknown;
    try {
      loadSiteFile(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SiteConfigError);
    const message = (error as SiteConfigError).message;
    expect(message).toContain(file);
    expect(message).toContain(expected);
  });
});

it('a missing site file names the file', () => {
  expect(() => loadSiteFile('/nonexistent/site.yaml')).toThrow(/\/nonexistent\/site\.yaml: invalid site file\n {2}\/: cannot read file/);
});

describe('environment variables in the site file', () => {
  const missing: [string, number][] = [];
  const onMissing = (name: string, line: number): void => {
    missing.push([name, line]);
  };

  it.each([
    ['host: ${FM_HOST}', { FM_HOST: '10.0.0.5' }, 'host: 10.0.0.5'],
    ['host: ${FM_HOST:-127.0.0.1}', {}, 'host: 127.0.0.1'],
    ['host: ${FM_HOST:-127.0.0.1}', { FM_HOST: 'plc-1' }, 'host: plc-1'],
    ['literal: $${NOT_A_VAR}', {}, 'literal: ${NOT_A_VAR}'],
  ])('%s', (text, env, expected) => {
    expect(interpolateEnvironment(text, env, onMissing)).toBe(expected);
  });

  it('names a variable that is unset and has no default, with its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fm-site-'));
    const file = join(dir, 'site.yaml');
    writeFileSync(file, 'site: { id: s1, name: Test }\nbuildings:\n  - { id: B1, name: "${FM_UNSET_BUILDING_NAME}" }\n');
    expect(() => loadSiteFile(file)).toThrow(/line 3: environment variable FM_UNSET_BUILDING_NAME is not set/);
  });
});
