const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000 };

/**
 * Checks a retention duration (`365d`, `4w`, `12h`, `1d12h`, or `INF` for forever) and returns it
 * in the form InfluxDB accepts. InfluxDB refuses retention policies shorter than one hour.
 */
export function normaliseRetention(retention: string): string {
  const s = retention.trim();
  if (/^inf$/i.test(s)) return 'INF';
  if (!/^(\d+[wdhm])+$/i.test(s)) throw new Error(`retention ${JSON.stringify(retention)}: expected a duration such as 365d, 4w, 12h, or INF`);
  const normal = s.toLowerCase();
  if (retentionMs(normal)! < UNIT_MS.h!) throw new Error(`retention ${JSON.stringify(retention)}: must be at least 1h`);
  return normal;
}

/** Retention in ms, or undefined for INF (keep forever). */
export function retentionMs(retention: string): number | undefined {
  const s = retention.trim().toLowerCase();
  if (s === 'inf') return undefined;
  let ms = 0;
  for (const m of s.matchAll(/(\d+)([wdhm])/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms;
}
