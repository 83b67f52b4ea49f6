import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../common/reading.ts';
import { createReadingStore } from '../gateway/store/create-reading-store.ts';
import { quoteIdent, stringLiteral, timeLiteral } from '../common/readings/influxql.ts';
import { encodeBatch } from '../gateway/outbox/batch-codec.ts';
import { batchLineBodies, escapeTag, eventLine, lineBodies, readingLine } from '../gateway/store/line-protocol.ts';
import { ROUND_TRIP_BATCHES } from './fixtures/outbox/batches.ts';
import { normaliseRetention, retentionMs } from '../common/readings/retention.ts';

describe('line protocol tag escaping', () => {
  it.each([
    ['plain', 'tank-1', 'tank-1'],
    ['space, comma, equals', 'a b,c=d', 'a\\ b\\,c\\=d'],
    ['quotes and CJK need nothing', `门禁 "x" 'y'`, `门禁\\ "x"\\ 'y'`],
    ['newline becomes a space', 'a\nb', 'a\\ b'],
    ['backslash before a letter is kept', 'a\\b', 'a\\b'],
    ['backslash before an escaped comma is kept', 'a\\,b', 'a\\\\,b'],
    ['pair of backslashes before an escaped equals sign', 'a\\\\=b', 'a\\\\\\=b'],
    ['trailing backslash becomes a slash', 'a\\', 'a/'],
    ['only the last of trailing backslashes', 'a\\\\', 'a\\/'],
  ])('%s', (_name, input, expected) => {
    expect(escapeTag(input)).toBe(expected);
  });
});

describe('line protocol points', () => {
  const base: Reading = { building: 'b 1', device: 'tank-1', kind: 'tank', metric: 'level_pct', engUnit: '%', value: 42, ts: 1_732_350_000_123, quality: 'good' };

  it.each<[string, Reading, string]>([
    ['float value, ms timestamp, tags in key order', base, 'readings,building=b\\ 1,device=tank-1,eng_unit=%,kind=tank,metric=level_pct value=42,quality="good" 1732350000123'],
    ['no value for a bad reading', { ...base, value: null, quality: 'bad' }, 'readings,building=b\\ 1,device=tank-1,eng_unit=%,kind=tank,metric=level_pct quality="bad" 1732350000123'],
    ['non-finite value is left out', { ...base, value: Number.NaN, quality: 'uncertain' }, 'readings,building=b\\ 1,device=tank-1,eng_unit=%,kind=tank,metric=level_pct quality="uncertain" 1732350000123'],
    ['unit tag when present, fractional ts truncated', { ...base, unit: '3-2-1501', engUnit: undefined, value: 1.5e-7, ts: 1.9 }, 'readings,building=b\\ 1,device=tank-1,kind=tank,metric=level_pct,unit=3-2-1501 value=1.5e-7,quality="good" 1'],
  ])('%s', (_name, reading, expected) => {
    expect(readingLine(reading)).toBe(expected);
  });

  it('writes event attributes as JSON and one string field each', () => {
    const line = eventLine({ building: 'b1', device: 'door-1', kind: 'door', event: 'card_denied', ts: 5, attrs: { card: 42, note: 'a "b" \\ c' } });
    expect(line).toBe(
      'events,building=b1,device=door-1,event=card_denied,kind=door attrs="{\\"card\\":42,\\"note\\":\\"a \\\\\\"b\\\\\\" \\\\\\\\ c\\"}",attr_card="42",attr_note="a \\"b\\" \\\\ c" 5',
    );
  });
});

describe('line protocol bodies', () => {
  const escapes = {
    name: 'tags that need escaping, empty unit and engUnit',
    batch: {
      readings: [
        { building: 'b 1', device: 'a,b=c', kind: 'tank' as const, unit: '', metric: 'x\\', engUnit: '', value: 1, ts: 1, quality: 'good' as const },
        { building: 'b 1', device: 'a,b=c', kind: 'tank' as const, unit: 'u\nv', metric: 'lvl', engUnit: 'm³', value: 2.5, ts: 2, quality: 'uncertain' as const },
      ],
      events: [],
    },
  };
  const batches = [...ROUND_TRIP_BATCHES, escapes];
  const expected = (bs: typeof batches, per: number): string[] => {
    const lines = bs.flatMap(({ batch }) => [...batch.readings.map(readingLine), ...batch.events.map(eventLine)]);
    const out: string[] = [];
    for (let i = 0; i < lines.length; i += per) out.push(lines.slice(i, i + per).join('\n'));
    return out;
  };
  const texts = (bodies: Iterable<{ text: Buffer; points: number }>): string[] => [...bodies].map((b) => b.text.toString('utf8'));

  it.each(batches)('$name: straight from the outbox encoding, the lines of readingLine and eventLine', ({ batch }) => {
    const payload = encodeBatch(batch);
    expect(texts(batchLineBodies([payload], 5000))).toEqual(expected([{ name: '', batch }], 5000));
  });

  it.each([1, 3, 7, 5000])('bodies of at most %i points across records, none empty', (per) => {
    const payloads = batches.map(({ batch }) => encodeBatch(batch));
    const bodies = [...batchLineBodies(payloads, per)];
    expect(bodies.map((b) => b.text.toString('utf8'))).toEqual(expected(batches, per));
    expect(bodies.every((b) => b.points >= 1 && b.points <= per)).toBe(true);
    expect(texts(lineBodies(batches.flatMap((b) => b.batch.readings), batches.flatMap((b) => b.batch.events), per))).toEqual(
      expected([{ name: '', batch: { readings: batches.flatMap((b) => b.batch.readings), events: batches.flatMap((b) => b.batch.events) } }], per),
    );
  });
});

describe('InfluxQL quoting', () => {
  it.each([
    ['facility', '"facility"'],
    ['a"b', '"a\\"b"'],
    ['a\\"b', '"a\\\\\\"b"'],
  ])('identifier %s', (input, expected) => expect(quoteIdent(input)).toBe(expected));

  it.each([
    ["it's", "'it\\'s'"],
    ["a\\' OR 1=1", "'a\\\\\\' OR 1=1'"],
  ])('string %s', (input, expected) => expect(stringLiteral(input)).toBe(expected));

  it('time bounds are epoch ms literals and refuse non-numbers', () => {
    expect(timeLiteral(1_732_350_000_000.7)).toBe('1732350000000ms');
    expect(() => timeLiteral(Number.NaN)).toThrow(/finite/);
  });
});

describe('retention', () => {
  it.each([
    ['365d', '365d', 365 * 86_400_000],
    ['INF', 'INF', undefined],
    ['inf', 'INF', undefined],
    ['4W', '4w', 28 * 86_400_000],
    ['1d12h', '1d12h', 36 * 3_600_000],
    ['60m', '60m', 3_600_000],
  ])('%s', (input, normal, ms) => {
    expect(normaliseRetention(input)).toBe(normal);
    expect(retentionMs(normal)).toBe(ms);
  });

  it.each(['', '30', 'forever', '30m', '1y', '-5d'])('refuses %j', (input) => {
    expect(() => normaliseRetention(input)).toThrow(/retention/);
  });
});

describe('createReadingStore', () => {
  it('uses SQLite in the data dir without INFLUX_URL and InfluxDB with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fm-store-factory-'));
    try {
      const sqlite = createReadingStore({ dataDir: dir, retention: '30d' });
      expect(sqlite.backend).toBe('sqlite');
      await sqlite.init();
      await sqlite.close();
      const influx = createReadingStore({ influxUrl: 'http://u:p%40ss@127.0.0.1:1/facility', dataDir: dir, retention: 'INF' });
      expect(influx.backend).toBe('influxdb');
      await influx.close();
      expect(() => createReadingStore({ influxUrl: 'http://127.0.0.1:8086/', dataDir: dir, retention: 'INF' })).toThrow(/name the database/);
      expect(() => createReadingStore({ dataDir: dir, retention: 'soon' })).toThrow(/retention/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
