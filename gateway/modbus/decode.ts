import type { FunctionCode, RegisterPoint } from '../../common/profiles.ts';
import type { DeviceKind, Reading } from '../../common/reading.ts';
import { decodeValue } from '../../common/register-codec.ts';
import type { ConversionProblem, Converter } from '../connectors/converter.ts';
import { pointWidth } from './read-plan.ts';

/** What one read returned: register words (FC3/4) or bits as 0/1 (FC1/2), from `address` on. */
export interface RegisterBlock {
  fc: FunctionCode;
  address: number;
  words: readonly number[];
}

/** Why a point's value could not be used. */
export type DecodeProblemReason = 'out-of-range' | 'not-finite';

export interface DecodeProblem {
  metric: string;
  reason: DecodeProblemReason;
  detail: string;
}

/** Who the readings belong to, when they were read, and where to report values that cannot be used. */
export interface DecodeContext {
  building: string;
  device: string;
  kind: DeviceKind;
  unit?: string;
  ts: number;
  onProblem?: (problem: DecodeProblem) => void;
}

export type PointValue = { ok: true; value: number } | { ok: false; reason: DecodeProblemReason; detail: string };

/** The engineering value of one point from a block; never throws. */
export function decodePoint(block: RegisterBlock, p: RegisterPoint): PointValue {
  const offset = p.address - block.address;
  const width = pointWidth(p);
  if (p.fc !== block.fc || offset < 0 || offset + width > block.words.length) {
    return {
      ok: false,
      reason: 'out-of-range',
      detail: `FC${p.fc} ${p.address}..${p.address + width - 1} is outside the block FC${block.fc} ${block.address}..${block.address + block.words.length - 1}`,
    };
  }
  const value = decodeValue(block.words.slice(offset, offset + width), p);
  if (!Number.isFinite(value)) return { ok: false, reason: 'not-finite', detail: `${p.type} decodes to ${value}` };
  return { ok: true, value };
}

function reading(ctx: DecodeContext, p: RegisterPoint, value: number | null): Reading {
  const r: Reading = { building: ctx.building, device: ctx.device, kind: ctx.kind, metric: p.metric, value, ts: ctx.ts, quality: value === null ? 'bad' : 'good' };
  if (ctx.unit !== undefined) r.unit = ctx.unit;
  if (p.engUnit !== undefined) r.engUnit = p.engUnit;
  return r;
}

/**
 * Readings of `points` from one block. A value that cannot be used (registers outside the block,
 * NaN or infinite) becomes a `bad` reading with a null value and is reported to `ctx.onProblem`.
 */
export function decode(block: RegisterBlock, points: readonly RegisterPoint[], ctx: DecodeContext): Reading[] {
  return points.map((p) => {
    const v = decodePoint(block, p);
    if (v.ok) return reading(ctx, p, v.value);
    ctx.onProblem?.({ metric: p.metric, reason: v.reason, detail: v.detail });
    return reading(ctx, p, null);
  });
}

/** `bad` readings for points that could not be read at all (timeout, exception, connection down). */
export function badReadings(points: readonly RegisterPoint[], ctx: DecodeContext): Reading[] {
  return points.map((p) => reading(ctx, p, null));
}

/** One answered request: its registers and the points they serve. */
export interface RegisterRead {
  block: RegisterBlock;
  points: readonly RegisterPoint[];
}

/** The Modbus converter (gateway/connectors/converter.ts): readings of a request's points from its registers. */
export const convertRegisters: Converter<RegisterRead> = ({ block, points }, device, ts) => {
  const problems: ConversionProblem[] = [];
  const ctx: DecodeContext = { building: device.building, device: device.id, kind: device.kind, ts, onProblem: (p) => problems.push(p) };
  if (device.unit !== undefined) ctx.unit = device.unit;
  return { readings: decode(block, points, ctx), events: [], problems };
};
