import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DATA_ITEMS, decodeDataItem, encodeDataItem, errorReasons, readAnswer, readRequest } from '../common/dlt645/data-items.ts';
import { FrameReader, decodeFrame, encodeFrame, type Frame } from '../common/dlt645/frame.ts';
import { convertDataItem } from '../gateway/dlt645/convert.ts';

interface FrameFixture {
  description: string;
  wire: string;
  wakeUp?: number;
  /** Only decoded: the wire holds more than the frame (noise). */
  decodeOnly?: boolean;
  frame?: { address: string; control: string; data: string };
  error?: string;
}

interface ConverterFixture {
  item: string;
  data: string;
  expected: { metric: string; value: number | null; engUnit: string; quality: 'good' | 'bad' };
  problem?: string;
}

const bytes = (hex: string): Uint8Array => Uint8Array.from(hex.split(/\s+/).filter(Boolean).map((b) => Number.parseInt(b, 16)));
const hexOf = (b: Uint8Array): string => [...b].map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join(' ');

function fixtures<T>(dir: string): (readonly [string, T])[] {
  const url = new URL(`./fixtures/dlt645/${dir}/`, import.meta.url);
  return readdirSync(url)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(f, url), 'utf8')) as T] as const);
}

const frames = fixtures<FrameFixture>('frames');
const expectedFrame = (f: FrameFixture): Frame => ({ address: f.frame!.address, control: Number.parseInt(f.frame!.control, 16), data: bytes(f.frame!.data) });

describe.each(frames)('DL/T 645 frame: %s', (_name, fx) => {
  if (fx.error !== undefined) {
    it('is refused with a message naming what is wrong', () => {
      expect(() => decodeFrame(bytes(fx.wire))).toThrow(fx.error);
    });
    return;
  }
  it('decodes to its address, control code and data (33H taken off)', () => {
    expect(decodeFrame(bytes(fx.wire))).toEqual(expectedFrame(fx));
  });
  if (!fx.decodeOnly) {
    it('encodes to the bytes on the wire', () => {
      expect(hexOf(encodeFrame(expectedFrame(fx), fx.wakeUp ?? 0))).toBe(fx.wire);
    });
  }
});

describe('FrameReader', () => {
  it('finds every frame of a stream that arrives a byte at a time, reporting the one with a bad checksum', () => {
    const reader = new FrameReader();
    const found: string[] = [];
    for (const [name, fx] of frames) {
      if (fx.error?.startsWith('no complete frame')) continue;
      for (const b of bytes(fx.wire)) {
        for (const e of reader.push(Uint8Array.of(b))) found.push(e.kind === 'frame' ? `${name}:${e.frame.address}` : `${name}:checksum`);
      }
    }
    const expected = frames.filter(([, fx]) => !fx.error?.startsWith('no complete frame')).map(([name, fx]) => `${name}:${fx.error ? 'checksum' : fx.frame!.address}`);
    expect(found).toEqual(expected);
  });

  it('keeps a partial frame until the rest arrives, and forgets it on reset', () => {
    const wire = bytes(frames.find(([n]) => n === 'reply-phase-a-voltage')![1].wire);
    const reader = new FrameReader();
    expect(reader.push(wire.slice(0, 9))).toEqual([]);
    expect(reader.push(wire.slice(9))).toHaveLength(1);
    expect(reader.push(wire.slice(0, 9))).toEqual([]);
    reader.reset();
    expect(reader.push(wire.slice(9))).toEqual([]);
  });
});

describe('reads and answers', () => {
  it('a read request is C=11H with the identifier low byte first', () => {
    expect(hexOf(encodeFrame(readRequest('000000000101', '02010100'), 4))).toBe('FE FE FE FE 68 01 01 00 00 00 00 68 11 04 33 34 34 35 B7 16');
  });

  it.each([
    ['reply-phase-a-voltage', { kind: 'data', id: '02010100', follows: false }],
    ['reply-with-follow-up-frames', { kind: 'data', id: '00010000', follows: true }],
    ['reply-abnormal-no-requested-data', { kind: 'error', code: 2 }],
    ['read-forward-active-energy-with-wake-up', { kind: 'other' }],
  ])('%s is read as %o', (name, expected) => {
    expect(readAnswer(decodeFrame(bytes(frames.find(([n]) => n === name)![1].wire)))).toMatchObject(expected);
  });

  it('names the bits of an error byte', () => {
    expect(errorReasons(0x02)).toEqual(['no requested data']);
    expect(errorReasons(0x05)).toEqual(['other error', 'wrong password or not authorised']);
    expect(errorReasons(0x80)).toEqual(['error byte 80H']);
  });

  it.each(DATA_ITEMS.flatMap((item) => [1, -1].filter((s) => item.signed || s > 0).map((sign) => [item.id, sign * 123.456] as const)))(
    'data item %s encodes %d as the meter shows it, and decodes back',
    (id, value) => {
      const item = DATA_ITEMS.find((d) => d.id === id)!;
      const shown = Math.round((value / item.scale) * 10 ** item.decimals) * item.scale / 10 ** item.decimals;
      expect(decodeDataItem(item, encodeDataItem(item, value))).toEqual({ ok: true, value: shown });
    },
  );
});

describe.each(fixtures<ConverterFixture>('converter'))('DL/T 645 converter: %s', (_name, fx) => {
  const device = { id: 'OB-101-electric', building: 'OB', kind: 'meter-electric' as const, unit: 'OB-101' };
  const ts = 1732350000000;

  it('gives the reading the fixture expects', () => {
    const item = DATA_ITEMS.find((d) => d.id === fx.item)!;
    const out = convertDataItem({ item, data: bytes(fx.data) }, device, ts);
    expect(out.readings).toEqual([{ building: 'OB', device: 'OB-101-electric', kind: 'meter-electric', unit: 'OB-101', ts, ...fx.expected }]);
    expect(out.events).toEqual([]);
    expect(out.problems.map((p) => p.reason)).toEqual(fx.problem ? [fx.problem] : []);
  });
});
