import { describe, expect, it } from 'vitest';
import { BatchDecodeError, decodeBatch, encodeBatch } from '../gateway/outbox/batch-codec.ts';
import { ROUND_TRIP_BATCHES } from './fixtures/outbox/batches.ts';

describe('outbox batch codec', () => {
  describe.each(ROUND_TRIP_BATCHES)('$name', ({ batch }) => {
    it('decodes to exactly what was encoded', () => {
      const decoded = decodeBatch(encodeBatch(batch));
      expect(decoded).toStrictEqual(batch);
      for (const [i, e] of decoded.events.entries()) expect(Object.keys(e.attrs)).toEqual(Object.keys(batch.events[i]?.attrs ?? {}));
    });
  });

  it('is smaller than JSON for a typical batch', () => {
    const readings = Array.from({ length: 100 }, (_, i) => ({
      building: 'B1',
      device: `tank-${i % 10}`,
      kind: 'tank' as const,
      metric: i % 2 ? 'level_mm' : 'level_pct',
      value: i % 2 ? 1000 + i : 50 + i / 3,
      engUnit: i % 2 ? 'mm' : '%',
      ts: 1_732_350_000_000 + i,
      quality: 'good' as const,
    }));
    const size = encodeBatch({ readings, events: [] }).length;
    expect(size).toBeLessThan(JSON.stringify(readings).length / 4);
  });

  it('refuses damaged input instead of inventing readings', () => {
    const buf = encodeBatch(ROUND_TRIP_BATCHES[1]!.batch);
    expect(() => decodeBatch(buf.subarray(0, buf.length - 1))).toThrow(BatchDecodeError);
    expect(() => decodeBatch(Buffer.concat([buf, Buffer.from([0])]))).toThrow(/trailing/);
    const wrongVersion = Buffer.from(buf);
    wrongVersion[0] = 9;
    expect(() => decodeBatch(wrongVersion)).toThrow(/version 9/);
  });
});
