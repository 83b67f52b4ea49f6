import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES, point, type RegisterPoint } from '../common/profiles.ts';
import { gapRegisters, planReads, pointWidth, type ReadRequest } from '../gateway/modbus/read-plan.ts';

const shape = (plan: ReadRequest[]) => plan.map((r) => ({ fc: r.fc, address: r.address, count: r.count, metrics: r.points.map((p) => p.metric) }));

/** Every point is read whole by exactly one request, and no request breaks the limits. */
function checkInvariants(points: RegisterPoint[], plan: ReadRequest[], maxRegisters = 125, maxBits = 2000): void {
  const seen = new Map<string, number>();
  for (const r of plan) {
    expect(r.count).toBeGreaterThan(0);
    expect(r.count).toBeLessThanOrEqual(r.fc <= 2 ? maxBits : maxRegisters);
    for (const p of r.points) {
      expect(p.fc).toBe(r.fc);
      expect(p.address).toBeGreaterThanOrEqual(r.address);
      expect(p.address + pointWidth(p)).toBeLessThanOrEqual(r.address + r.count);
      seen.set(p.metric, (seen.get(p.metric) ?? 0) + 1);
    }
  }
  for (const p of points) expect(seen.get(p.metric), p.metric).toBe(1);
}

describe('planReads on the built-in profiles', () => {
  it('tank-level: one FC2 read of both float switches and one FC3 read of level and pump', () => {
    const points = BUILTIN_PROFILES['tank-level']!.points;
    const plan = planReads(points, { maxGapRegisters: 16 });
    expect(shape(plan)).toEqual([
      { fc: 2, address: 0, count: 2, metrics: ['float_low', 'float_high'] },
      { fc: 3, address: 0, count: 2, metrics: ['level_mm', 'pump_running'] },
    ]);
    checkInvariants(points, plan);
  });

  it('meter-electric: 0x0000..0x000D in one read, 0x0156 on its own (too far for the gap limit)', () => {
    const points = BUILTIN_PROFILES['meter-electric']!.points;
    const plan = planReads(points, { maxGapRegisters: 16 });
    expect(shape(plan)).toEqual([
      { fc: 4, address: 0, count: 14, metrics: ['voltage_v', 'current_a', 'power_w'] },
      { fc: 4, address: 0x156, count: 2, metrics: ['energy_kwh'] },
    ]);
    expect(gapRegisters(plan[0]!)).toBe(8);
    checkInvariants(points, plan);
  });

  it('meter-electric with maxGapRegisters 0: one read per point', () => {
    const plan = planReads(BUILTIN_PROFILES['meter-electric']!.points, { maxGapRegisters: 0 });
    expect(plan.map((r) => [r.address, r.count])).toEqual([[0, 2], [6, 2], [12, 2], [0x156, 2]]);
  });

  it('meter-water: volume and flow are adjacent, one read of 4 registers', () => {
    const points = BUILTIN_PROFILES['meter-water']!.points;
    expect(shape(planReads(points, { maxGapRegisters: 0 }))).toEqual([{ fc: 3, address: 0, count: 4, metrics: ['volume_m3', 'flow_m3h'] }]);
  });
});

describe('planReads limits and gaps', () => {
  const regs = (n: number, type: RegisterPoint['type'] = 'uint16', step = 1, fc: RegisterPoint['fc'] = 3): RegisterPoint[] =>
    Array.from({ length: n }, (_, i) => point({ metric: `m${i}`, fc, address: i * step, type }));

  it('splits 300 adjacent registers into 125 + 125 + 50 (FC3 limit)', () => {
    const points = regs(300);
    const plan = planReads(points, { maxGapRegisters: 0 });
    expect(plan.map((r) => [r.address, r.count])).toEqual([[0, 125], [125, 125], [250, 50]]);
    checkInvariants(points, plan);
  });

  it('a custom maxRegisters is honoured', () => {
    const plan = planReads(regs(10), { maxGapRegisters: 0, maxRegisters: 4 });
    expect(plan.map((r) => r.count)).toEqual([4, 4, 2]);
  });

  it('never splits a 32-bit point across two reads at the 125-register boundary', () => {
    // float32 at 0,2,4,...: the point at 124 would need registers 124 and 125.
    const points = regs(70, 'float32', 2);
    const plan = planReads(points, { maxGapRegisters: 0 });
    expect(plan.map((r) => [r.address, r.count])).toEqual([[0, 124], [124, 16]]);
    checkInvariants(points, plan);
  });

  it('bits: 2500 coils become 2000 + 500 (FC1 limit)', () => {
    const points = regs(2500, 'bool', 1, 1);
    const plan = planReads(points, { maxGapRegisters: 0 });
    expect(plan.map((r) => [r.fc, r.address, r.count])).toEqual([[1, 0, 2000], [1, 2000, 500]]);
    checkInvariants(points, plan);
  });

  it('merges across a gap of exactly maxGapRegisters, not one more', () => {
    const a = point({ metric: 'a', fc: 3, address: 0, type: 'uint16' });
    const b = point({ metric: 'b', fc: 3, address: 5, type: 'uint16' });
    expect(planReads([a, b], { maxGapRegisters: 4 }).map((r) => [r.address, r.count])).toEqual([[0, 6]]);
    expect(planReads([a, b], { maxGapRegisters: 3 }).map((r) => [r.address, r.count])).toEqual([[0, 1], [5, 1]]);
  });

  it('does not merge across a gap when the merged read would pass the limit', () => {
    const a = point({ metric: 'a', fc: 4, address: 0, type: 'uint16' });
    const b = point({ metric: 'b', fc: 4, address: 124, type: 'float32' });
    expect(planReads([a, b], { maxGapRegisters: 124 }).map((r) => [r.address, r.count])).toEqual([[0, 1], [124, 2]]);
    const c = point({ metric: 'c', fc: 4, address: 123, type: 'float32' });
    expect(planReads([a, c], { maxGapRegisters: 124 }).map((r) => [r.address, r.count])).toEqual([[0, 125]]);
  });

  it('sorts unsorted points, keeps function codes apart, and handles overlapping points', () => {
    const points = [
      point({ metric: 'z', fc: 4, address: 10, type: 'uint16' }),
      point({ metric: 'y', fc: 3, address: 2, type: 'float32' }),
      point({ metric: 'x', fc: 3, address: 0, type: 'uint32' }),
      point({ metric: 'x_low', fc: 3, address: 1, type: 'uint16' }),
      point({ metric: 'w', fc: 4, address: 11, type: 'int16' }),
    ];
    const plan = planReads(points, { maxGapRegisters: 0 });
    expect(shape(plan)).toEqual([
      { fc: 3, address: 0, count: 4, metrics: ['x', 'x_low', 'y'] },
      { fc: 4, address: 10, count: 2, metrics: ['z', 'w'] },
    ]);
    checkInvariants(points, plan);
  });

  it('an empty profile plans no reads', () => {
    expect(planReads([], { maxGapRegisters: 16 })).toEqual([]);
  });
});
