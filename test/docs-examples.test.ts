// The examples of docs/ run here: a broken example fails this test.
//
// A fenced block is an example when the line before it is `<!-- example: KIND key=value flag -->`:
//   site-file                 a complete site file
//   site-fragment [base=demo] [refused]   top-level sections laid over a minimal site (or the
//                             demo estate); `${NAME:-default}` takes its default
//   devices building=ID       a list of devices added to a building of the demo estate
//   (any site kind) name=N    keeps the site for the payload examples of the same file
//   message                   the error of the `refused` example before it
//   payload topic=T received=MS [site=N]   a device MQTT payload; the next block (`result`) is
//                             what parseDeviceMessage makes of it
//   upstream-readings, upstream-events, upstream-message topic=T retain=BOOL   docs/upstream.md
//   gateway-status            a gateway status payload the server takes as it is (docs/upstream.md)
//   program                   a TypeScript program run from the repository root (tsx) over an empty
//                             DATA_DIR; the next block (`output`) is what it prints
// The metrics table of docs/gateway.md sits between `<!-- metrics -->` and `<!-- /metrics -->`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent, Reading } from '../common/reading.ts';
import { DEMO_SITE_FILE, interpolateEnvironment, parseSiteConfig, SiteConfigError } from '../common/site/load.ts';
import type { DeviceConfig, SiteConfig } from '../common/site/types.ts';
import { UPSTREAM_SUBSCRIPTIONS, type GatewayStatusSections, type GatewayStorageStatus } from '../common/topics.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { isPayloadError, parseDeviceMessage } from '../gateway/mqtt/payload.ts';
import { topicMatches } from '../gateway/mqtt/topic-match.ts';
import { UpstreamPublisher } from '../gateway/upstream/upstream-publisher.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { parseGatewayStatus } from '../server/bus/upstream-payload.ts';
import { checkRules, resolveRules } from '../server/rules/rule-config.ts';
import { resolveWorkOrderSettings } from '../server/work-orders/work-order-settings.ts';
import { waitFor } from './harness/ports.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

interface Block {
  file: string;
  line: number;
  lang: string;
  text: string;
  kind?: string;
  attrs: Record<string, string>;
  flags: Set<string>;
}

const MARKER = /^<!--\s*example:\s*([a-z-]+)((?:\s+[^\s]+)*)\s*-->$/;

/** The fenced blocks of a markdown file, each with the example marker on the line before it. */
function blocksOf(doc: string): Block[] {
  const lines = readFileSync(join(ROOT, doc), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const block: Block = { file: doc, line: start + 1, lang: open[1] ?? '', text: body.join('\n'), attrs: {}, flags: new Set() };
    let j = start - 1;
    while (j >= 0 && lines[j]!.trim() === '') j--;
    const m = j >= 0 ? MARKER.exec(lines[j]!.trim()) : null;
    if (m) {
      block.kind = m[1];
      for (const word of (m[2] ?? '').trim().split(/\s+/).filter(Boolean)) {
        const eq = word.indexOf('=');
        if (eq > 0) block.attrs[word.slice(0, eq)] = word.slice(eq + 1);
        else block.flags.add(word);
      }
    }
    out.push(block);
  }
  return out;
}

const where = (b: Block): string => `${b.file}:${b.line}`;

const MINIMAL_SITE = { site: { id: 'example', name: 'Example estate' }, buildings: [{ id: 'B1', name: 'Block 1' }] };

const demoRaw = (): Record<string, unknown> => parse(readFileSync(DEMO_SITE_FILE, 'utf8')) as Record<string, unknown>;

/** The raw site file an example stands for. */
function rawSite(b: Block): Record<string, unknown> {
  const text = interpolateEnvironment(b.text, {}, (name) => {
    throw new Error(`${where(b)}: \${${name}} has no default`);
  });
  const doc: unknown = parse(text);
  switch (b.kind) {
    case 'site-file':
      return doc as Record<string, unknown>;
    case 'site-fragment':
      expect(doc, `${where(b)}: a fragment is a mapping of top-level sections`).toBeTypeOf('object');
      if (b.attrs.base !== undefined && b.attrs.base !== 'demo') throw new Error(`${where(b)}: base=${b.attrs.base}: only base=demo is known`);
      return { ...(b.attrs.base === 'demo' ? demoRaw() : MINIMAL_SITE), ...(doc as Record<string, unknown>) };
    case 'devices': {
      expect(Array.isArray(doc), `${where(b)}: a devices example is a YAML list`).toBe(true);
      const raw = demoRaw() as { buildings: { id: string; devices?: unknown[] }[] };
      const building = raw.buildings.find((x) => x.id === b.attrs.building);
      if (!building) throw new Error(`${where(b)}: building=${b.attrs.building} is not a building of the demo estate`);
      building.devices = [...(building.devices ?? []), ...(doc as unknown[])];
      return raw;
    }
    default:
      throw new Error(`${where(b)}: '${b.kind}' is not a site example`);
  }
}

const SITE_KINDS = new Set(['site-file', 'site-fragment', 'devices']);

/** A valid example: schema, references and the server's checks of rules and work-order settings all pass. */
function validSite(b: Block): SiteConfig {
  const site = parseSiteConfig(rawSite(b), 'site.yaml');
  expect(checkRules(site).problems, `${where(b)}: rules`).toEqual([]);
  resolveWorkOrderSettings(site);
  return site;
}

describe.each(['docs/site-file.md', 'docs/rules.md', 'docs/devices.md', 'docs/work-orders.md'])('site file examples of %s', (doc) => {
  const blocks = blocksOf(doc);
  const yaml = blocks.filter((b) => b.lang === 'yaml');

  it('marks every YAML block as an example', () => {
    expect(yaml.length).toBeGreaterThan(0);
    for (const b of yaml) expect(SITE_KINDS.has(b.kind ?? ''), `${where(b)}: YAML block without <!-- example: site-file|site-fragment|devices -->`).toBe(true);
  });

  it.each(yaml.filter((b) => !b.flags.has('refused')).map((b) => [where(b), b] as const))('%s is a valid site', (_at, b) => {
    validSite(b);
  });

  it.each(yaml.filter((b) => b.flags.has('refused')).map((b) => [where(b), b] as const))('%s is refused with the message the doc shows', (_at, b) => {
    const message = blocks[blocks.indexOf(b) + 1];
    expect(message?.kind, `${where(b)}: a refused example is followed by <!-- example: message -->`).toBe('message');
    let thrown: unknown;
    try {
      // In the order the server checks them.
      const site = parseSiteConfig(rawSite(b), 'site.yaml');
      resolveRules(site);
      resolveWorkOrderSettings(site);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SiteConfigError);
    expect((thrown as Error).message).toBe(message!.text.trim());
  });
});

describe('device payload examples of docs/devices.md', () => {
  const blocks = blocksOf('docs/devices.md');
  const sites = new Map<string, SiteConfig>();
  for (const b of blocks) if (b.kind && SITE_KINDS.has(b.kind) && b.attrs.name) sites.set(b.attrs.name, validSite(b));
  const demo = parseSiteConfig(demoRaw(), DEMO_SITE_FILE);
  const payloads = blocks.filter((b) => b.kind === 'payload');

  it('marks every JSON block as a payload or its result', () => {
    expect(payloads.length).toBeGreaterThanOrEqual(8);
    for (const b of blocks.filter((x) => x.lang === 'json')) {
      expect(['payload', 'result'], `${where(b)}: JSON block without <!-- example: payload|result -->`).toContain(b.kind);
      if (b.kind === 'payload') expect(blocks[blocks.indexOf(b) + 1]?.kind, `${where(b)}: a payload is followed by its result`).toBe('result');
    }
  });

  it.each(payloads.map((b) => [`${where(b)} ${b.attrs.topic}`, b] as const))('%s gives what the doc says', (_at, b) => {
    const site = b.attrs.site ? sites.get(b.attrs.site) : demo;
    if (!site) throw new Error(`${where(b)}: site=${b.attrs.site} names no example`);
    const topic = b.attrs.topic!;
    const receivedAt = Number(b.attrs.received);
    expect(Number.isSafeInteger(receivedAt), `${where(b)}: received=epoch ms`).toBe(true);
    const route = routeOf(site, topic);
    if (!route) throw new Error(`${where(b)}: no device of the site publishes on ${topic}`);

    const outcome = parseDeviceMessage({ topic, payload: b.text, device: route.device, channel: route.channel, receivedAt });
    const expected = JSON.parse(blocks[blocks.indexOf(b) + 1]!.text) as {
      readings?: Partial<Reading>[];
      events?: Partial<DeviceEvent>[];
      reason?: string;
      error?: string;
    };
    if (expected.reason !== undefined) {
      expect(outcome).toEqual({ reason: expected.reason, error: expected.error });
      return;
    }
    if (isPayloadError(outcome)) throw new Error(`${where(b)}: refused: ${outcome.error}`);
    expect(outcome.readings).toHaveLength(expected.readings?.length ?? 0);
    expect(outcome.events).toHaveLength(expected.events?.length ?? 0);
    (expected.readings ?? []).forEach((want, i) => {
      const got = outcome.readings[i]!;
      expect(got).toMatchObject(want);
      expect(got.engUnit, `${where(b)}: engUnit of ${got.metric}`).toBe(want.engUnit);
    });
    (expected.events ?? []).forEach((want, i) => {
      const got = outcome.events[i]!;
      expect(got).toMatchObject(want);
      expect(got.attrs).toEqual(want.attrs);
    });
  });
});

/** Which device and channel a topic belongs to, as the MQTT connector routes it. */
function routeOf(site: SiteConfig, topic: string): { device: DeviceConfig; channel: 'telemetry' | 'event' | 'any' } | undefined {
  for (const device of site.devices) {
    if (!device.mqtt) continue;
    const { telemetryTopic, eventTopic } = device.mqtt;
    const t = topicMatches(telemetryTopic, topic);
    const e = topicMatches(eventTopic, topic);
    if (t && e && telemetryTopic === eventTopic) return { device, channel: 'any' };
    if (t) return { device, channel: 'telemetry' };
    if (e) return { device, channel: 'event' };
  }
  return undefined;
}

describe('metrics of docs/gateway.md', () => {
  const registered = new Map<string, string>();
  const sources = readdirSync(join(ROOT, 'gateway'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const f of sources) {
    const text = readFileSync(join(ROOT, 'gateway', f), 'utf8');
    for (const m of text.matchAll(/\.(counter|gauge|summary)\(\s*'([a-z][a-z0-9]*_[a-z0-9_]+)'/g)) registered.set(m[2]!, m[1]!);
  }
  /** `fm`, and one prefix per protocol connector (`modbus`, `dlt645`). */
  const prefixes = [...new Set([...registered.keys()].map((n) => n.split('_')[0]!))].join('|');
  const metricName = new RegExp(`'((?:${prefixes})_[a-z0-9_]+)'`, 'g');
  /** Metric names the server defines (documented in docs/broker.md, docs/sockets.md and the API docs). */
  const serverMetrics = new Set<string>();
  for (const f of readdirSync(join(ROOT, 'server'), { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.ts'))) {
    for (const m of readFileSync(join(ROOT, 'server', f), 'utf8').matchAll(metricName)) serverMetrics.add(m[1]!);
  }
  const gatewayDoc = readFileSync(join(ROOT, 'docs/gateway.md'), 'utf8');
  const table = /<!-- metrics -->\n([\s\S]*?)<!-- \/metrics -->/.exec(gatewayDoc)?.[1] ?? '';
  const documented = new Map<string, string>();
  for (const m of table.matchAll(/^\| `([a-z0-9_]+)` \| (counter|gauge|summary) \|/gm)) documented.set(m[1]!, m[2]!);

  it('finds the metrics in the code and in the table', () => {
    expect(registered.size).toBeGreaterThan(30);
    expect(documented.size).toBeGreaterThan(30);
  });

  it('documents every metric the gateway registers, with its type', () => {
    expect([...registered.keys()].filter((n) => !documented.has(n)), 'registered in gateway/ but not in docs/gateway.md').toEqual([]);
    for (const [name, type] of registered) if (documented.has(name)) expect(documented.get(name), name).toBe(type);
  });

  it('documents no metric the code does not register', () => {
    expect([...documented.keys()].filter((n) => !registered.has(n)), 'in docs/gateway.md but not registered in gateway/').toEqual([]);
  });

  it('mentions no unknown metric anywhere in docs/', () => {
    // Retention policies and continuous queries of InfluxDB, not metrics.
    const notMetrics = new Set(['fm_retention', 'fm_1m', 'fm_1h', 'fm_rollup_1m', 'fm_rollup_1h']);
    for (const doc of readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(ROOT, 'docs', doc), 'utf8');
      for (const m of text.matchAll(new RegExp(`\`((?:${prefixes})_[a-z0-9_]+)(?:\\{[^}\`]*\\})?\``, 'g'))) {
        if (!notMetrics.has(m[1]!)) expect(registered.has(m[1]!) || serverMetrics.has(m[1]!), `docs/${doc} mentions ${m[1]}`).toBe(true);
      }
    }
  });
});

describe('upstream examples of docs/upstream.md', () => {
  const blocks = blocksOf('docs/upstream.md');
  const readings = blocks.filter((b) => b.kind === 'upstream-readings').flatMap((b) => JSON.parse(b.text) as Reading[]);
  const events = blocks.filter((b) => b.kind === 'upstream-events').flatMap((b) => JSON.parse(b.text) as DeviceEvent[]);
  const messages = blocks.filter((b) => b.kind === 'upstream-message');
  const gatewayId = 'gw-sunshine-1';
  let broker: EmbeddedBroker;
  let publisher: UpstreamPublisher;
  const clients: MqttClient[] = [];
  const live: { topic: string; payload: string }[] = [];
  const retained = new Map<string, string>();

  const subscriber = async (onMessage: (topic: string, payload: string, retain: boolean) => void): Promise<void> => {
    const client = mqtt.connect(broker.url, { reconnectPeriod: 0 });
    clients.push(client);
    client.on('message', (topic, payload, packet) => onMessage(topic, payload.toString(), packet.retain));
    await client.subscribeAsync(UPSTREAM_SUBSCRIPTIONS, { qos: 1 });
  };

  let sections: Partial<GatewayStatusSections> = {};
  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0 });
    await subscriber((topic, payload) => live.push({ topic, payload }));
    publisher = new UpstreamPublisher({ brokerUrl: broker.url, gatewayId, metrics: new MetricsRegistry(), statusSections: () => sections });
    await publisher.start();
    await waitFor(() => publisher.connected, 10_000, 'upstream connection');
    await publisher.deliver([{ readings, events }]);
    // The gateway adds the disk budget it measured to its status.
    for (const m of messages) {
      const storage = (JSON.parse(m.text) as { storage?: GatewayStorageStatus }).storage;
      if (!storage) continue;
      sections = { storage };
      publisher.publishStatus();
      await waitFor(() => live.some((l) => l.topic === m.attrs.topic && l.payload.includes('"storage"')), 10_000, 'the status with its storage');
    }
    await waitFor(() => messages.every((m) => live.some((l) => l.topic === m.attrs.topic)), 10_000, 'every documented topic');
    await subscriber((topic, payload, retain) => {
      if (retain) retained.set(topic, payload);
    });
    const retainedTopics = messages.filter((m) => m.attrs.retain === 'true').map((m) => m.attrs.topic!);
    await waitFor(() => retainedTopics.every((t) => retained.has(t)), 10_000, 'retained messages');
  });

  afterAll(async () => {
    await publisher?.stop();
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker?.close();
  });

  it('has examples', () => {
    expect(readings.length).toBeGreaterThan(0);
    expect(events.length).toBeGreaterThan(0);
    expect(messages.length).toBeGreaterThanOrEqual(3);
  });

  it.each(messages.map((b) => [`${where(b)} ${b.attrs.topic}`, b] as const))('%s is what the gateway publishes', (_at, b) => {
    const want = JSON.parse(b.text) as Record<string, unknown>;
    const got = JSON.parse(live.filter((l) => l.topic === b.attrs.topic).at(-1)!.payload) as Record<string, unknown>;
    if (b.attrs.topic === `fm/v1/gateway/${gatewayId}/status`) {
      // The status carries the time it was published and the time its connection was attempted.
      expect(got.ts).toBeTypeOf('number');
      expect(got.since).toBeTypeOf('number');
      expect({ ...got, ts: want.ts, since: want.since }).toEqual(want);
    } else {
      expect(got).toEqual(want);
    }
    expect(retained.has(b.attrs.topic!), `${where(b)}: retain=${b.attrs.retain}`).toBe(b.attrs.retain === 'true');
  });
});

describe('gateway status examples of docs/upstream.md', () => {
  const blocks = blocksOf('docs/upstream.md').filter((b) => b.kind === 'gateway-status');

  it('has examples', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it.each(blocks.map((b) => [where(b), b] as const))('%s is a status the server takes as it is', (_at, b) => {
    const body = JSON.parse(b.text) as { gateway: string };
    expect(parseGatewayStatus(Buffer.from(b.text), body.gateway)).toEqual(body);
  });
});

describe.each(['docs/gateway.md'])('programs of %s', (doc) => {
  const blocks = blocksOf(doc);
  const programs = blocks.flatMap((b, i) => (b.kind === 'program' ? [{ program: b, output: blocks[i + 1] }] : []));

  it('has programs, each followed by its output', () => {
    expect(programs.length).toBeGreaterThan(0);
    for (const { program, output } of programs) expect(output?.kind, `${where(program)}: the next block is its output`).toBe('output');
  });

  it.each(programs.map((p) => [where(p.program), p] as const))('%s prints its documented output', async (_where, { program, output }) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fm-docs-program-'));
    // In the repository root, where the program's imports point.
    const file = join(ROOT, `.docs-example-${process.pid}-${program.line}.ts`);
    writeFileSync(file, program.text);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: dataDir, INFLUX_URL: '' },
        timeout: 30_000,
      });
      expect(stdout.trim()).toBe(output!.text.trim());
    } finally {
      rmSync(file, { force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
