import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../common/reading.ts';
import type { UpstreamState } from '../common/topics.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { readUpstreamStates } from '../gateway/upstream/state-file.ts';
import { UpstreamPublisher } from '../gateway/upstream/upstream-publisher.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../server/broker/embedded-broker.ts';
import { waitFor } from './harness/ports.ts';

const T = 1732350000000;
const reading = (device: string, metric: string, value: number, ts: number): Reading => ({ building: 'T1', device, kind: 'tank', metric, value, ts, quality: 'good' });

const validState: UpstreamState = { ts: T, gateway: 'gw-old', kind: 'tank', metrics: { level_pct: { value: 50, quality: 'good', ts: T } } };
/** Files a gateway may find after a crash, a full disk or a hand edit. */
const corruptFiles: [name: string, text: string][] = [
  ['empty file', ''],
  ['torn JSON', '{"version":1,"states":[{"building":"T1","dev'],
  ['zero-filled', '\0'.repeat(64)],
  ['another version', JSON.stringify({ version: 2, states: [] })],
  ['a metric without quality', JSON.stringify({ version: 1, states: [{ building: 'T1', device: 'T1-tank', state: { ...validState, metrics: { level_pct: { value: 1, ts: T } } } }] })],
  ['a value that is a string', JSON.stringify({ version: 1, states: [{ building: 'T1', device: 'T1-tank', state: { ...validState, metrics: { level_pct: { value: '1', quality: 'good', ts: T } } } }] })],
];

/** The retained state of a device, as a subscriber arriving now gets it. */
async function retainedState(url: string, building: string, device: string): Promise<UpstreamState> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  try {
    let state: UpstreamState | undefined;
    client.on('message', (_topic, payload, packet) => {
      if (packet.retain) state = JSON.parse(payload.toString()) as UpstreamState;
    });
    await client.subscribeAsync(`fm/v1/${building}/${device}/state`, { qos: 1 });
    await waitFor(() => state !== undefined, 10_000, `retained state of ${device}`);
    return state!;
  } finally {
    await client.endAsync();
  }
}

describe('UpstreamPublisher state file', () => {
  let broker: EmbeddedBroker;
  let dir: string;
  const cleanups: (() => Promise<unknown>)[] = [];
  let n = 0;

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0 });
    dir = await mkdtemp(join(tmpdir(), 'fm-upstream-state-'));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  afterAll(async () => {
    await broker?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function publisher(gatewayId: string, stateFile: string): { publisher: UpstreamPublisher; metrics: MetricsRegistry; errors: Error[] } {
    const metrics = new MetricsRegistry();
    const p = new UpstreamPublisher({ brokerUrl: broker.url, gatewayId, metrics, reconnectPeriodMs: 100, stateFile });
    const errors: Error[] = [];
    p.on('error', (err) => errors.push(err));
    cleanups.push(() => p.stop());
    return { publisher: p, metrics, errors };
  }

  it('publishes, after a restart, the state merged with what was delivered before the restart', async () => {
    const gatewayId = `gw-${process.pid}-${++n}`;
    const stateFile = join(dir, `${gatewayId}.json`);
    const device = 'T1-tank-restart';

    const a = publisher(gatewayId, stateFile).publisher;
    await a.start();
    await a.deliver([{ readings: [reading(device, 'level_pct', 70, T), reading(device, 'pump_running', 1, T)], events: [] }]);
    await a.stop();

    const b = publisher(gatewayId, stateFile);
    await b.publisher.start();
    await b.publisher.deliver([{ readings: [reading(device, 'battery_pct', 90, T + 60_000)], events: [] }]);

    const expected: UpstreamState = {
      ts: T + 60_000,
      gateway: gatewayId,
      kind: 'tank',
      metrics: {
        level_pct: { value: 70, quality: 'good', ts: T },
        pump_running: { value: 1, quality: 'good', ts: T },
        battery_pct: { value: 90, quality: 'good', ts: T + 60_000 },
      },
    };
    expect(await retainedState(broker.url, 'T1', device)).toEqual(expected);
    expect(b.errors).toEqual([]);
    expect(b.metrics.find('fm_upstream_state_file_errors_total')?.get()).toBe(0);
  });

  it('writes the file after deliveries while running, not only on stop', async () => {
    const gatewayId = `gw-${process.pid}-${++n}`;
    const stateFile = join(dir, `${gatewayId}.json`);
    const { publisher: p } = publisher(gatewayId, stateFile);
    await p.start();
    await p.deliver([{ readings: [reading('T1-tank', 'level_pct', 1, T)], events: [] }]);
    await p.deliver([{ readings: [reading('T1-tank', 'level_pct', 2, T + 1)], events: [] }]);
    await waitFor(async () => (await readUpstreamStates(stateFile).catch(() => undefined))?.get('T1/T1-tank')?.metrics.level_pct?.value === 2, 10_000, 'state file with the second delivery');
  });

  it.each(corruptFiles)('ignores a state file that is corrupt (%s), starts empty and replaces it', async (_name, text) => {
    const gatewayId = `gw-${process.pid}-${++n}`;
    const stateFile = join(dir, `${gatewayId}.json`);
    await writeFile(stateFile, text);
    const { publisher: p, metrics, errors } = publisher(gatewayId, stateFile);
    await p.start();
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('upstream state file ignored')]);
    expect(metrics.find('fm_upstream_state_file_errors_total')?.get()).toBe(1);

    const device = `T1-tank-corrupt-${n}`;
    await p.deliver([{ readings: [reading(device, 'battery_pct', 90, T)], events: [] }]);
    const state = await retainedState(broker.url, 'T1', device);
    expect(state.metrics).toEqual({ battery_pct: { value: 90, quality: 'good', ts: T } });
    await p.stop();
    const written = await readUpstreamStates(stateFile);
    expect(written && [...written.keys()]).toEqual([`T1/${device}`]);
  });

  it('keeps delivering when the state file cannot be written, and reports it', async () => {
    const gatewayId = `gw-${process.pid}-${++n}`;
    const notADir = join(dir, `${gatewayId}.file`);
    await writeFile(notADir, 'a file where the state directory should be');
    const { publisher: p, metrics, errors } = publisher(gatewayId, join(notADir, 'upstream-state.json'));
    await p.start();
    // Unreadable too: reported, and the publisher starts empty.
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/upstream state file ignored.*ENOTDIR/)]);
    await p.deliver([{ readings: [reading('T1-tank-unwritable', 'level_pct', 5, T)], events: [] }]);
    await waitFor(() => errors.length > 1, 10_000, 'the failed write reported');
    expect(errors[1]?.message).toMatch(/upstream state not written to .*upstream-state\.json/);
    expect(metrics.find('fm_upstream_state_file_errors_total')?.get()).toBeGreaterThanOrEqual(2);
    expect((await retainedState(broker.url, 'T1', 'T1-tank-unwritable')).metrics.level_pct?.value).toBe(5);
    await p.stop();
    expect(await readFile(notADir, 'utf8')).toBe('a file where the state directory should be');
  });
});
