import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES } from '../common/profiles.ts';
import { ModbusException } from '../devices/modbus/modbus-exception.ts';
import { RegisterBank } from '../devices/modbus/register-bank.ts';

const electric = BUILTIN_PROFILES['meter-electric']!;

function exceptionCode(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ModbusException) return err.code;
    throw err;
  }
  return undefined;
}

describe('RegisterBank', () => {
  it('stores engineering values as the registers a reader decodes', () => {
    const bank = new RegisterBank(electric, { initial: { energy_kwh: 1234.5 } });
    bank.set('voltage_v', 230.5);
    expect(bank.read(4, 0, 2)).toEqual([0x4366, 0x8000]);
    expect(bank.read(4, 0x156, 2)).toEqual([0x449a, 0x5000]);
    expect(bank.get('voltage_v')).toBe(230.5);
    expect(() => bank.set('nope', 1)).toThrow(/no metric 'nope'/);
  });

  it('fills gaps between mapped points with 0 by default, but not past the last mapped register', () => {
    const bank = new RegisterBank(electric);
    expect(bank.read(4, 0, 14)).toHaveLength(14);
    expect(bank.read(4, 2, 4)).toEqual([0, 0, 0, 0]);
    expect(exceptionCode(() => bank.read(4, 0x156, 3))).toBe(2);
    expect(exceptionCode(() => bank.read(4, 0x158, 1))).toBe(2);
    expect(exceptionCode(() => bank.read(3, 0, 1))).toBe(2);
  });

  it('with fillGaps false refuses any unmapped register', () => {
    const bank = new RegisterBank(electric, { fillGaps: false });
    expect(bank.read(4, 6, 2)).toHaveLength(2);
    expect(exceptionCode(() => bank.read(4, 0, 14))).toBe(2);
  });

  it('refuses quantities outside the Modbus limits with exception 3', () => {
    const bank = new RegisterBank(BUILTIN_PROFILES['tank-level']!);
    expect(exceptionCode(() => bank.read(3, 0, 0))).toBe(3);
    expect(exceptionCode(() => bank.read(3, 0, 126))).toBe(3);
    expect(bank.read(2, 0, 2)).toEqual([0, 0]);
  });

  it('answers according to its fault and counts requests by function code', () => {
    const bank = new RegisterBank(BUILTIN_PROFILES['tank-level']!, { initial: { level_mm: 1200 } });
    expect(bank.respond(3, 0, 2)).toEqual({ kind: 'values', values: [1200, 0] });
    expect(bank.respond(3, 5, 1)).toEqual({ kind: 'exception', code: 2 });
    bank.fault = 'exception';
    expect(bank.respond(2, 0, 2)).toEqual({ kind: 'exception', code: 4 });
    bank.fault = 'timeout';
    expect(bank.respond(2, 0, 2)).toEqual({ kind: 'silent' });
    expect([bank.requestCount(), bank.requestCount(3), bank.requestCount(2), bank.requestCount(4)]).toEqual([4, 2, 2, 0]);
    bank.resetCounts();
    expect(bank.requestCount()).toBe(0);
  });
});
