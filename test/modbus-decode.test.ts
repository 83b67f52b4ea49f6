import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { registerCount, type RegisterPoint } from '../common/profiles.ts';
import { encodeValue } from '../common/register-codec.ts';
import { badReadings, decode, decodePoint, type DecodeProblem, type RegisterBlock } from '../gateway/modbus/decode.ts';

interface DecoderFixture {
  catches: string;
  point: RegisterPoint;
  block: RegisterBlock;
  expected: { value: number | null; quality: 'good' | 'bad' };
  roundTrip: boolean;
}

const dir = fileURLToPath(new URL('./fixtures/decoder/', import.meta.url));
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ name: f.replace(/\.json$/, ''), ...(JSON.parse(readFileSync(dir + f, 'utf8')) as DecoderFixture) }));

const ctx = { building: 'T1', device: 'T1-dev', kind: 'meter-electric' as const, unit: 'T1-0101', ts: 1_732_350_000_000 };

describe('decoder fixtures cover every data type, byte order and word order', () => {
  it('has fixtures for each combination that exists', () => {
    const seen = new Set(fixtures.filter((f) => f.expected.quality === 'good').map((f) => `${f.point.type}/${f.point.byteOrder}/${registerCount(f.point.type) === 2 ? f.point.wordOrder : '-'}`));
    for (const type of ['int32', 'uint32', 'float32'] as const) {
      for (const b of ['big', 'little']) for (const w of ['high-first', 'low-first']) expect(seen, `${type}/${b}/${w}`).toContain(`${type}/${b}/${w}`);
    }
    for (const type of ['int16', 'uint16'] as const) for (const b of ['big', 'little']) expect(seen).toContain(`${type}/${b}/-`);
    expect(seen).toContain('bool/big/-');
    expect(fixtures.some((f) => f.point.scale !== 1 && f.point.offset !== 0)).toBe(true);
  });
});

describe.each(fixtures)('$name', (f) => {
  it(`decodes: ${f.catches}`, () => {
    const problems: DecodeProblem[] = [];
    const [r] = decode(f.block, [f.point], { ...ctx, onProblem: (p) => problems.push(p) });
    expect(r).toMatchObject({ building: 'T1', device: 'T1-dev', kind: 'meter-electric', unit: 'T1-0101', metric: f.point.metric, ts: ctx.ts });
    expect(r!.quality).toBe(f.expected.quality);
    if (f.expected.value === null) {
      expect(r!.value).toBeNull();
      expect(problems).toHaveLength(1);
      expect(problems[0]!.metric).toBe(f.point.metric);
    } else {
      expect(r!.value).toBeCloseTo(f.expected.value, 9);
      expect(problems).toEqual([]);
    }
    if (f.point.engUnit) expect(r!.engUnit).toBe(f.point.engUnit);
    else expect(r).not.toHaveProperty('engUnit');
  });

  if (!f.roundTrip) return;
  it('encodes to the same registers and decodes back', () => {
    const value = f.expected.value!;
    const words = encodeValue(value, f.point);
    const offset = f.point.address - f.block.address;
    expect(words).toEqual(f.block.words.slice(offset, offset + words.length));
    const back = decodePoint({ fc: f.point.fc, address: f.point.address, words }, f.point);
    expect(back.ok && back.value).toBeCloseTo(value, 9);
  });
});

describe('decode of several points from one block', () => {
  it('skips nothing, keeps order, and marks only the unusable value bad', () => {
    const points: RegisterPoint[] = [
      { metric: 'a', fc: 3, address: 0, type: 'uint16', byteOrder: 'big', wordOrder: 'high-first', scale: 1, offset: 0 },
      { metric: 'b', fc: 3, address: 1, type: 'float32', byteOrder: 'big', wordOrder: 'high-first', scale: 1, offset: 0 },
      { metric: 'c', fc: 3, address: 3, type: 'int16', byteOrder: 'big', wordOrder: 'high-first', scale: 1, offset: 0 },
    ];
    const out = decode({ fc: 3, address: 0, words: [7, 0x7fc0, 0, 0xffff] }, points, ctx);
    expect(out.map((r) => [r.metric, r.value, r.quality])).toEqual([
      ['a', 7, 'good'],
      ['b', null, 'bad'],
      ['c', -1, 'good'],
    ]);
  });

  it('a point of another function code than the block is out of range, not decoded from the wrong area', () => {
    const p: RegisterPoint = { metric: 'x', fc: 4, address: 0, type: 'uint16', byteOrder: 'big', wordOrder: 'high-first', scale: 1, offset: 0 };
    expect(decodePoint({ fc: 3, address: 0, words: [1] }, p)).toMatchObject({ ok: false, reason: 'out-of-range' });
  });

  it('badReadings gives a null bad reading per point', () => {
    const p: RegisterPoint = { metric: 'x', fc: 4, address: 0, type: 'uint16', byteOrder: 'big', wordOrder: 'high-first', scale: 1, offset: 0, engUnit: 'V' };
    expect(badReadings([p], ctx)).toEqual([{ ...ctx, metric: 'x', value: null, engUnit: 'V', quality: 'bad' }]);
  });
});
