/**
 * A bounded record of what the screen received and when it showed it (epoch ms, frame number), read
 * by the browser tests and the frame benchmark through `window.__fmTrace`.
 */
export interface TraceEntry {
  type: string;
  id?: string | number;
  at: number;
  frame: number;
}

export interface Trace {
  frame: number;
  entries: TraceEntry[];
  /** Device states applied, and the frames that applied them. */
  deviceStates: number;
  renders: number;
}

const LIMIT = 1000;

export const trace: Trace = { frame: 0, entries: [], deviceStates: 0, renders: 0 };
(globalThis as { __fmTrace?: Trace }).__fmTrace = trace;

export function record(type: string, id?: string | number): void {
  const entry: TraceEntry = { type, at: performance.timeOrigin + performance.now(), frame: trace.frame };
  if (id !== undefined) entry.id = id;
  trace.entries.push(entry);
  if (trace.entries.length > LIMIT) trace.entries.splice(0, trace.entries.length - LIMIT);
}
