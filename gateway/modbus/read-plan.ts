import { registerCount, type FunctionCode, type RegisterPoint } from '../../common/profiles.ts';

/** One Modbus read request and the points whose values it returns. */
export interface ReadRequest {
  fc: FunctionCode;
  address: number;
  /** Registers (FC3/4) or bits (FC1/2) to read. */
  count: number;
  points: RegisterPoint[];
}

export interface ReadPlanOptions {
  /** Unmapped registers (or bits) a merged read may span to save a request. */
  maxGapRegisters: number;
  /** Modbus FC3/FC4: at most 125 registers per request (Modbus Application Protocol v1.1b3, 6.3/6.4). */
  maxRegisters?: number;
  /** Modbus FC1/FC2: at most 2000 bits per request (Modbus Application Protocol v1.1b3, 6.1/6.2). */
  maxBits?: number;
}

/** Registers (or bits, for FC1/2) a point occupies. */
export function pointWidth(p: RegisterPoint): number {
  return p.fc === 1 || p.fc === 2 ? 1 : registerCount(p.type);
}

/**
 * Groups points by function code, sorts them by address and merges neighbours (and gaps of up to
 * `maxGapRegisters`) into as few reads as the per-request limit allows. A point is never split
 * across two reads. Requests come out ordered by function code, then address.
 */
export function planReads(points: readonly RegisterPoint[], options: ReadPlanOptions): ReadRequest[] {
  const maxRegisters = options.maxRegisters ?? 125;
  const maxBits = options.maxBits ?? 2000;
  const maxGap = Math.max(0, options.maxGapRegisters);
  const byFc = new Map<FunctionCode, RegisterPoint[]>();
  for (const p of points) {
    const list = byFc.get(p.fc) ?? [];
    list.push(p);
    byFc.set(p.fc, list);
  }
  const plan: ReadRequest[] = [];
  for (const fc of [...byFc.keys()].sort((a, b) => a - b)) {
    const limit = fc === 1 || fc === 2 ? maxBits : maxRegisters;
    const sorted = [...byFc.get(fc)!].sort((a, b) => a.address - b.address || pointWidth(b) - pointWidth(a));
    let current: ReadRequest | undefined;
    for (const p of sorted) {
      const end = p.address + pointWidth(p);
      if (current) {
        const currentEnd = current.address + current.count;
        const gap = p.address - currentEnd;
        const newCount = Math.max(currentEnd, end) - current.address;
        if (gap <= maxGap && newCount <= limit) {
          current.count = newCount;
          current.points.push(p);
          continue;
        }
      }
      current = { fc, address: p.address, count: pointWidth(p), points: [p] };
      plan.push(current);
    }
  }
  return plan;
}

/** Registers (or bits) a request reads that no point of it uses. */
export function gapRegisters(req: ReadRequest): number {
  const used = new Set<number>();
  for (const p of req.points) for (let i = 0; i < pointWidth(p); i++) used.add(p.address + i);
  return req.count - used.size;
}
