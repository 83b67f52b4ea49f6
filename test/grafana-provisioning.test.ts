import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUILTIN_PROFILES } from '../common/profiles.ts';
import { DEVICE_KINDS } from '../common/reading.ts';

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

interface Target {
  datasource: { type: string; uid: string };
  query: string;
  rawQuery: boolean;
}
interface Panel {
  id: number;
  title: string;
  datasource: { uid: string };
  targets: Target[];
  gridPos: { x: number; y: number; w: number; h: number };
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, { image?: string; volumes?: string[]; environment?: Record<string, string> }> };
const datasources = parse(read('grafana/provisioning/datasources/influxdb.yaml')) as { datasources: { uid: string; type: string; url: string; jsonData: { dbName: string } }[] };
const providers = parse(read('grafana/provisioning/dashboards/facility-monitor.yaml')) as { providers: { options: { path: string } }[] };
const dashboard = JSON.parse(read('grafana/dashboards/estate.json')) as { uid: string; title: string; timezone: string; panels: Panel[]; templating: { list: { name: string; query: string; datasource: { uid: string } }[] } };

/** Tag keys and measurements the gateway writes (gateway/store/line-protocol.ts). */
const TAGS = new Set(['building', 'device', 'kind', 'metric', 'unit', 'eng_unit', 'event']);
const METRICS = new Set(Object.values(BUILTIN_PROFILES).flatMap((p) => p.points.map((pt) => pt.metric)));

describe('Grafana provisioned from the repository (docker-compose.yml)', () => {
  const ds = datasources.datasources[0]!;

  it('mounts the provisioning and the dashboards where the provider looks for them', () => {
    const grafana = compose.services.grafana!;
    expect(grafana.image).toMatch(/^grafana\/grafana/);
    expect(grafana.volumes).toContain('./grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(grafana.volumes).toContain(`./grafana/dashboards:${providers.providers[0]!.options.path}:ro`);
  });

  it('reads the InfluxDB database the gateway writes', () => {
    expect(ds).toMatchObject({ type: 'influxdb', url: 'http://influxdb:8086' });
    expect(ds.jsonData.dbName).toBe(compose.services.influxdb!.environment!.INFLUXDB_DB);
    expect(compose.services.gateway!.environment!.INFLUX_URL).toBe(`http://influxdb:8086/${ds.jsonData.dbName}`);
  });

  it('has an estate dashboard in the estate time zone whose every query uses the provisioned data source', () => {
    expect(dashboard.uid).toBe('facility-estate');
    expect(dashboard.timezone).toBe('Asia/Shanghai');
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(5);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of dashboard.panels) {
      expect(p.datasource.uid, p.title).toBe(ds.uid);
      for (const t of p.targets) expect(t.datasource.uid, p.title).toBe(ds.uid);
    }
    for (const v of dashboard.templating.list) expect(v.datasource.uid).toBe(ds.uid);
  });

  it.each(dashboard.panels.flatMap((p) => p.targets.map((t) => [p.title, t.query] as const)))('%s: InfluxQL on what the gateway writes', (_title, query) => {
    expect(query).toMatch(/^SELECT .+ FROM "(readings|events)" WHERE .*\$timeFilter GROUP BY time\(\$__interval\)/);
    for (const [, tag] of query.matchAll(/"(\w+)" (?:=|=~) /g)) expect(TAGS, `tag ${tag}`).toContain(tag);
    for (const [, metric] of query.matchAll(/"metric" = '([^']+)'/g)) expect(METRICS, `metric ${metric}`).toContain(metric);
    for (const [, kind] of query.matchAll(/"kind" = '([^']+)'/g)) expect(DEVICE_KINDS as readonly string[]).toContain(kind);
  });

  it('lays the panels out without overlaps on the 24-column grid', () => {
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });
});
