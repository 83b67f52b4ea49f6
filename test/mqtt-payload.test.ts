import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DeviceEvent, DeviceKind, Reading } from '../common/reading.ts';
import type { MqttMapping } from '../common/protocols/mqtt.ts';
import type { DeviceConfig } from '../common/site/types.ts';
import { deviceTopic, parseDeviceTopic, type DeviceChannel } from '../common/topics.ts';
import { isPayloadError, parseDeviceMessage, valueAt } from '../gateway/mqtt/payload.ts';

interface Fixture {
  topic: string;
  channel?: DeviceChannel | 'any';
  receivedAt: number;
  device: { id: string; building: string; kind: DeviceKind; unit?: string; mqtt?: { mapping?: MqttMapping } };
  /** A string is sent as is (malformed JSON); anything else as its JSON text. */
  payload: unknown;
  expected: { readings: Reading[]; events: DeviceEvent[] } | { error: string[]; reason: string };
}

const dir = fileURLToPath(new URL('./fixtures/mqtt/', import.meta.url));
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(dir, f), 'utf8')) as Fixture] as const);

function deviceConfig(d: Fixture['device']): DeviceConfig {
  const config: DeviceConfig = {
    id: d.id,
    building: d.building,
    kind: d.kind,
    name: d.id,
    params: {},
    protocol: 'mqtt',
    address: deviceTopic(d.building, d.id, 'telemetry'),
    mqtt: { telemetryTopic: deviceTopic(d.building, d.id, 'telemetry'), eventTopic: deviceTopic(d.building, d.id, 'event'), ...d.mqtt },
  };
  if (d.unit) config.unit = d.unit;
  return config;
}

describe('parseDeviceMessage', () => {
  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThan(30);
  });

  describe.each(fixtures)('%s', (_name, f) => {
    it('decodes as expected', () => {
      const channel = f.channel ?? parseDeviceTopic(f.topic)?.channel;
      expect(channel, 'fixture needs a device topic or a channel').toBeDefined();
      const outcome = parseDeviceMessage({
        topic: f.topic,
        payload: typeof f.payload === 'string' ? Buffer.from(f.payload) : JSON.stringify(f.payload),
        device: deviceConfig(f.device),
        channel: channel!,
        receivedAt: f.receivedAt,
      });
      if ('error' in f.expected) {
        expect(isPayloadError(outcome)).toBe(true);
        if (!isPayloadError(outcome)) return;
        expect(outcome.reason).toBe(f.expected.reason);
        expect(outcome.error.startsWith(`${f.topic}: `)).toBe(true);
        for (const part of f.expected.error) expect(outcome.error).toContain(part);
      } else {
        expect(outcome).toEqual(f.expected);
      }
    });
  });
});

describe('valueAt', () => {
  it.each([
    [{ a: { b: 1 } }, 'a.b', 1],
    [{ a: [{ b: 2 }] }, 'a.0.b', 2],
    [{ a: [1] }, 'a.x', undefined],
    [{ a: null }, 'a.b', undefined],
    [{ 'a.b': 1 }, 'a.b', undefined],
    [{}, 'toString', undefined],
  ])('%j at %s', (obj, path, expected) => {
    expect(valueAt(obj, path)).toBe(expected);
  });
});
