import { describe, expect, it } from 'vitest';
import { loadSiteFile, DEMO_SITE_FILE } from '../common/site/load.ts';
import type { BuildingConfig, DeviceConfig, SiteConfig } from '../common/site/types.ts';
import { ManualClock } from '../devices/clock.ts';
import { createModel, type SimulatedDevice } from '../devices/models/create-model.ts';
import { localTime, waterDemand } from '../devices/models/daily-pattern.ts';
import { DoorController } from '../devices/models/door-controller.ts';
import { EmergencyButton } from '../devices/models/emergency-button.ts';
import { FirePanel } from '../devices/models/fire-panel.ts';
import { createHousehold, type Household } from '../devices/models/household.ts';
import type { EmittedEvent, ModelContext } from '../devices/models/model.ts';
import { WaterTank } from '../devices/models/water-tank.ts';
import { createRandom } from '../devices/random.ts';

const site: SiteConfig = loadSiteFile(DEMO_SITE_FILE);
const START = new ManualClock().now(); // Monday 2025-01-06 08:00 Asia/Shanghai
const HOUR = 3_600_000;

function buildingOf(id: string): BuildingConfig {
  const b = site.buildings.find((x) => x.devices.some((d) => d.id === id));
  if (!b) throw new Error(`no device ${id}`);
  return b;
}

function deviceConfig(id: string): DeviceConfig {
  const d = site.devices.find((x) => x.id === id);
  if (!d) throw new Error(`no device ${id}`);
  return d;
}

function context(id: string, seed: number | string = 7): ModelContext {
  const building = buildingOf(id);
  return { random: createRandom(seed).fork(id), timezone: site.site.timezone, building, buildingType: building.type, startMs: START };
}

function model(id: string, opts: { seed?: number; household?: Partial<Household> } = {}): SimulatedDevice {
  const cfg = deviceConfig(id);
  const household = { ...createHousehold(cfg.unit ?? id, createRandom(opts.seed ?? 7).fork(`unit:${cfg.unit}`)), vacant: false, ...opts.household };
  return createModel(cfg, context(id, opts.seed ?? 7), household);
}

function run(m: SimulatedDevice, fromMs: number, durationMs: number, stepMs: number, each?: (nowMs: number) => void): number {
  let t = fromMs;
  while (t < fromMs + durationMs) {
    t += stepMs;
    m.step(t, stepMs);
    each?.(t);
  }
  return t;
}

describe('seeded PRNG', () => {
  it('repeats a sequence for a seed, differs across seeds, and forks independent streams', () => {
    const seq = (seed: number) => Array.from({ length: 5 }, createRandom(seed).next);
    expect(seq(3)).toEqual(seq(3));
    expect(seq(3)).not.toEqual(seq(4));
    const a = createRandom(3);
    const fa = a.fork('T1-tank').next();
    const b = createRandom(3);
    b.next();
    b.next();
    expect(b.fork('T1-tank').next()).toBe(fa);
    expect(a.fork('T2-tank').next()).not.toBe(fa);
    for (const v of Array.from({ length: 1000 }, createRandom(9).next)) expect(v >= 0 && v < 1).toBe(true);
  });
});

describe('models are deterministic with a seed', () => {
  const ids = ['T1-tank', 'T1-0101-water', 'T1-0101-electric', 'T1-0101-gas', 'OB-101-electric', 'T1-door-lobby', 'T1-fire', 'T1-sos-lobby'];
  function trace(seed: number): unknown[] {
    return ids.map((id) => {
      const m = model(id, { seed });
      const events: EmittedEvent[] = [];
      const samples: Record<string, number>[] = [];
      run(m, START, 2 * HOUR, 1000, (t) => {
        if (t % 60_000 === 0) samples.push(m.metrics());
        if ('takeEvents' in m) events.push(...m.takeEvents());
      });
      return { id, samples, events };
    });
  }

  it('gives the same readings and events for the same seed and clock, other ones for another seed', () => {
    const first = trace(11);
    expect(trace(11)).toEqual(first);
    expect(trace(12)).not.toEqual(first);
  });
});

describe('meters', () => {
  it.each([
    ['T1-0101-water', 'volume_m3', 0.05, 2],
    ['T1-0102-electric', 'energy_kwh', 1, 40],
    ['T2-0301-gas', 'volume_m3', 0.02, 2],
    ['OB-201-water', 'volume_m3', 0.05, 4],
    ['OB-201-electric', 'energy_kwh', 3, 120],
  ] as const)('%s: %s never decreases over 14 simulated days and grows at a plausible daily rate', (id, metric, minPerDay, maxPerDay) => {
    const m = model(id);
    const start = m.metrics()[metric]!;
    let last = start;
    let decreases = 0;
    run(m, START, 14 * 24 * HOUR, 30_000, () => {
      const v = m.metrics()[metric]!;
      if (v < last) decreases++;
      last = v;
    });
    expect(decreases).toBe(0);
    const perDay = (last - start) / 14;
    expect(perDay).toBeGreaterThan(minPerDay);
    expect(perDay).toBeLessThan(maxPerDay);
  });

  it.each(['T1-0201-water', 'T1-0201-electric', 'T1-0201-gas'])('%s consumes nothing while its unit is vacant', (id) => {
    const m = model(id, { household: { vacant: true } });
    const counter = id.endsWith('electric') ? 'energy_kwh' : 'volume_m3';
    const before = m.metrics()[counter];
    run(m, START, 24 * HOUR, 60_000);
    expect(m.metrics()[counter]).toBe(before);
    if (id.endsWith('electric')) {
      expect(m.metrics().power_w).toBe(0);
      expect(m.metrics().voltage_v).toBeGreaterThan(200);
    }
  });

  it('electricity meter: voltage stays near 220 V, current matches power', () => {
    const m = model('T1-0101-electric');
    let bad = 0;
    run(m, START, 6 * HOUR, 1000, () => {
      const v = m.metrics();
      if (!(v.voltage_v! > 205 && v.voltage_v! < 235)) bad++;
      if (Math.abs(v.current_a! * v.voltage_v! * 0.95 - v.power_w!) > 1e-6) bad++;
    });
    expect(bad).toBe(0);
    expect(m.metrics().power_w).toBeGreaterThan(50);
  });

  it('household water follows the Asia/Shanghai day: more at the 07:30 and 20:00 peaks than at 03:00', () => {
    const at = (hhmm: string) => Date.parse(`2025-01-07T${hhmm}:00+08:00`);
    expect(localTime(at('07:30'), 'Asia/Shanghai').hour).toBeCloseTo(7.5, 5);
    const night = waterDemand(localTime(at('03:00'), 'Asia/Shanghai'), 'residential');
    expect(waterDemand(localTime(at('07:30'), 'Asia/Shanghai'), 'residential')).toBeGreaterThan(night * 5);
    expect(waterDemand(localTime(at('20:00'), 'Asia/Shanghai'), 'residential')).toBeGreaterThan(night * 5);

    const used = (fromHhmm: string) => {
      const m = model('T1-0101-water');
      const v0 = m.metrics().volume_m3!;
      run(m, at(fromHhmm), HOUR, 10_000);
      return m.metrics().volume_m3! - v0;
    };
    expect(used('07:00')).toBeGreaterThan(used('02:30') * 3);
  });
});

describe('water tank', () => {
  it.each(['T1-tank', 'OB-tank'])('%s: pump hysteresis keeps the level between the setpoints for 3 days', (id) => {
    const tank = model(id);
    if (!(tank instanceof WaterTank)) throw new Error('not a tank');
    expect(tank.pumpOnMm).toBeGreaterThan(tank.lowAlarmMm);
    expect(tank.pumpOffMm).toBeLessThan(tank.highAlarmMm);
    let min = Infinity;
    let max = -Infinity;
    let starts = 0;
    let floatTrips = 0;
    let running = tank.pumpRunning;
    run(tank, START, 72 * HOUR, 1000, () => {
      const m = tank.metrics();
      min = Math.min(min, tank.levelMm);
      max = Math.max(max, tank.levelMm);
      if (m.pump_running === 1 && !running) starts++;
      running = m.pump_running === 1;
      floatTrips += m.float_low! + m.float_high!;
    });
    expect(floatTrips).toBe(0);
    expect(min).toBeGreaterThan(tank.pumpOnMm - 5);
    expect(max).toBeLessThan(tank.pumpOffMm + 5);
    // The band is really used: the pump starts at the bottom and stops at the top, many times.
    expect(min).toBeLessThan(tank.pumpOnMm + 5);
    expect(max).toBeGreaterThan(tank.pumpOffMm - 5);
    expect(starts).toBeGreaterThan(3);
  });

  it('a leak larger than the pump drains the tank past the low alarm and trips the low float', () => {
    const tank = model('T1-tank');
    if (!(tank instanceof WaterTank)) throw new Error('not a tank');
    tank.leakMmPerHour = tank.pumpMmPerHour + tank.heightMm * 12;
    let crossedAt: number | undefined;
    let previous = tank.levelMm;
    run(tank, START, 10 * 60_000, 1000, (t) => {
      expect(tank.levelMm).toBeLessThanOrEqual(previous);
      previous = tank.levelMm;
      if (crossedAt === undefined && tank.metrics().level_mm! < tank.lowAlarmMm) crossedAt = t;
    });
    expect(crossedAt).toBeDefined();
    expect(tank.metrics().float_low).toBe(1);
    expect(tank.metrics().pump_running).toBe(1);
  });

  it('overfill is capped at the tank height and trips the high float', () => {
    const tank = model('T1-tank');
    if (!(tank instanceof WaterTank)) throw new Error('not a tank');
    tank.levelMm = tank.heightMm;
    expect(tank.metrics().float_high).toBe(1);
    expect(tank.metrics().level_mm).toBe(tank.heightMm);
  });
});

describe('MQTT devices', () => {
  it('fire panel: alarm in a named zone until restored, counts in telemetry', () => {
    const panel = model('T1-fire');
    if (!(panel instanceof FirePanel)) throw new Error('not a panel');
    expect(panel.zones).toContain('T1-3F-east');
    expect(panel.metrics()).toMatchObject({ zones_alarm: 0, zones_fault: 0, mains_ok: 1 });
    panel.raiseAlarm('T1-3F-east', START + 1000);
    panel.raiseAlarm('T1-3F-east', START + 2000);
    panel.raiseFault('T1-5F-west', START + 3000);
    run(panel, START, HOUR, 1000);
    expect(panel.metrics()).toMatchObject({ zones_alarm: 1, zones_fault: 1 });
    panel.restore(START + HOUR, 'T1-3F-east');
    expect(panel.takeEvents()).toEqual([
      { ts: START + 1000, event: 'alarm', attrs: { zone: 'T1-3F-east' } },
      { ts: START + 3000, event: 'fault', attrs: { zone: 'T1-5F-west' } },
      { ts: START + HOUR, event: 'restore', attrs: { zone: 'T1-3F-east' } },
    ]);
    expect(panel.metrics()).toMatchObject({ zones_alarm: 0, zones_fault: 1 });
    expect(() => panel.raiseAlarm('T9-1F-north', START)).toThrow(/no zone 'T9-1F-north'/);
  });

  it('door: badge traffic opens and closes the door; a forced door reports held_open after its limit', () => {
    const door = model('T1-door-lobby');
    if (!(door instanceof DoorController)) throw new Error('not a door');
    const events: EmittedEvent[] = [];
    run(door, START, 12 * HOUR, 1000, () => events.push(...door.takeEvents()));
    const names = new Set(events.map((e) => e.event));
    for (const n of ['card_granted', 'open', 'closed', 'card_denied']) expect(names).toContain(n);
    expect(names).not.toContain('forced');
    expect(names).not.toContain('held_open');
    for (const e of events.filter((x) => x.event.startsWith('card_'))) expect(e.attrs.card).toMatch(/^C\d{6}$/);
    const opens = events.filter((e) => e.event === 'open').length;
    const closes = events.filter((e) => e.event === 'closed').length;
    expect(closes === opens || closes === opens - 1).toBe(true);

    const t0 = START + 12 * HOUR;
    door.force(t0);
    run(door, t0, 29_000, 1000);
    expect(door.takeEvents().map((e) => e.event)).toEqual(['forced']);
    expect(door.metrics().open).toBe(1);
    run(door, t0 + 29_000, 5_000, 1000);
    expect(door.takeEvents()).toEqual([{ ts: t0 + door.heldOpenMs, event: 'held_open', attrs: {} }]);
    door.close(t0 + 60_000);
    expect(door.takeEvents().map((e) => e.event)).toEqual(['closed']);
    expect(door.metrics().open).toBe(0);
  });

  it('emergency button: pressed latches until reset', () => {
    const button = model('T1-sos-lobby');
    if (!(button instanceof EmergencyButton)) throw new Error('not a button');
    run(button, START, HOUR, 60_000);
    expect(button.takeEvents()).toEqual([]);
    button.press(START + HOUR);
    button.press(START + HOUR + 1);
    expect(button.metrics().pressed).toBe(1);
    button.reset(START + 2 * HOUR);
    expect(button.takeEvents().map((e) => [e.event, e.ts])).toEqual([
      ['pressed', START + HOUR],
      ['reset', START + 2 * HOUR],
    ]);
    expect(button.metrics().battery_pct).toBeGreaterThan(0);
  });
});
