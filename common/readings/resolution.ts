import { normaliseRetention, retentionMs } from './retention.ts';

/**
 * The resolutions the reading store keeps (docs/gateway.md#rollups): raw readings for a short
 * retention, and 1-minute and 1-hour rollups (min, max, first, last, sum, count and, for counters,
 * delta of every window) for years. Every aggregate of a window made of whole rollup windows is
 * exact from the rollup, so a query takes the coarsest resolution its windows allow.
 */
export type Resolution = 'raw' | '1m' | '1h';

export const RESOLUTIONS: readonly Resolution[] = ['raw', '1m', '1h'];

/** Window of each rollup, ms. */
export const ROLLUP_MS: Readonly<Record<Exclude<Resolution, 'raw'>, number>> = { '1m': 60_000, '1h': 3_600_000 };

/** How long each resolution is kept, ms; undefined: forever. */
export type Retentions = Readonly<Record<Resolution, number | undefined>>;

/** Ranges up to this long answer raw points when no window is asked for. */
export const MAX_RAW_RANGE_MS = 6 * 3_600_000;
/** At most this many windows per metric in one answer. */
export const MAX_WINDOWS = 10_000;

export interface ResolutionChoice {
  resolution: Resolution;
  /** The window asked for, or the one chosen when none was; undefined for raw points. */
  every: number | undefined;
}

/** Whether `resolution` still holds data back to `from`. */
function holds(retentions: Retentions, resolution: Resolution, from: number, now: number): boolean {
  const kept = retentions[resolution];
  return kept === undefined || from >= now - kept;
}

function divides(resolution: Resolution, every: number): boolean {
  return resolution === 'raw' || every % ROLLUP_MS[resolution] === 0;
}

/**
 * The resolution a range query should read, from the range and the window asked for. Ranges up to
 * 6 hours that raw still holds read raw readings: points without `every`, fresh windows with it.
 * Longer ones read the coarsest rollup whose window divides `every` and that still holds `from`
 * (else the coarsest that divides it); without `every`, windows of 1 minute, 1 hour or a multiple
 * of an hour, whichever keeps the answer within 10,000 windows.
 */
export function chooseResolution(q: { from: number; to: number; every?: number | undefined }, retentions: Retentions, now: number): ResolutionChoice {
  const span = q.to - q.from;
  if (span <= MAX_RAW_RANGE_MS && holds(retentions, 'raw', q.from, now)) return { resolution: 'raw', every: q.every };
  let every = q.every;
  if (every === undefined) {
    const minute = ROLLUP_MS['1m'];
    const hour = ROLLUP_MS['1h'];
    every = span / minute <= MAX_WINDOWS && holds(retentions, '1m', q.from, now) ? minute : Math.max(1, Math.ceil(span / MAX_WINDOWS / hour)) * hour;
  }
  const fits = (['1h', '1m', 'raw'] as const).filter((r) => divides(r, every));
  const resolution = fits.find((r) => holds(retentions, r, q.from, now)) ?? fits[0]!;
  return { resolution, every };
}

/** The retentions of a site file's `gateway.store`, in ms. */
export function retentionsOf(store: { retention: string; rollups: { '1m': string; '1h': string } }): Retentions {
  return {
    raw: retentionMs(normaliseRetention(store.retention)),
    '1m': retentionMs(normaliseRetention(store.rollups['1m'])),
    '1h': retentionMs(normaliseRetention(store.rollups['1h'])),
  };
}
