import { badRequest } from './http-error.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `300000`, `500ms`, `30s`, `5m`, `1h`, `1d`, `1w` to milliseconds; a 400 naming `field` otherwise. */
export function parseDuration(field: string, raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(raw);
  if (!m) throw badRequest(field, `${JSON.stringify(raw)} is not a duration: give milliseconds (300000) or a number with ms, s, m, h, d or w (5m)`);
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!);
  if (!Number.isSafeInteger(ms) || ms < 1) throw badRequest(field, `${JSON.stringify(raw)} must be at least 1 ms`);
  return ms;
}

/** The times the API takes: 2000-01-01 up to 2100-01-01 (UTC), in epoch milliseconds. */
export const EARLIEST_TIME = Date.UTC(2000, 0, 1);
export const LATEST_TIME = Date.UTC(2100, 0, 1);

/** Epoch milliseconds or an ISO 8601 time with its zone (`2024-11-23T10:00:00+08:00`), from 2000 up to 2100. */
export function parseTime(field: string, raw: string): number {
  const s = raw.trim();
  let t: number | undefined;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (Number.isSafeInteger(n)) t = n;
  } else if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i.test(s)) {
    const parsed = Date.parse(s);
    if (Number.isFinite(parsed)) t = parsed;
  }
  if (t === undefined) throw badRequest(field, `${JSON.stringify(raw)} is not a time: give epoch milliseconds or ISO 8601 with a zone (2024-11-23T10:00:00+08:00)`);
  if (t < EARLIEST_TIME || t >= LATEST_TIME) throw badRequest(field, `${JSON.stringify(raw)} is outside 2000-01-01 to 2100-01-01`);
  return t;
}
