/** One line of the benchmark table. */
export interface BenchRow {
  measure: string;
  value: string;
  /** The target (docs/design.md#targets) or the expectation this row is checked against. */
  target?: string;
  pass?: boolean;
}

export interface ScenarioResult {
  scenario: string;
  status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or failed. */
  reason?: string;
  rows: BenchRow[];
  /** Raw numbers, written to bench/results.json. */
  details?: unknown;
}

export interface BenchOptions {
  quick: boolean;
  /** Run the gateway process under node --cpu-prof and summarise where its time goes. */
  profile: boolean;
  /** Overrides the measuring time of the ingest and modbus scenarios, and the simulated time of storage. */
  durationS?: number;
}

export function skipped(scenario: string, reason: string): ScenarioResult {
  return { scenario, status: 'skipped', reason, rows: [] };
}

export const fmt = {
  int: (n: number): string => Math.round(n).toLocaleString('en'),
  pct: (n: number): string => `${n.toFixed(1)} %`,
  ms: (n: number): string => `${n.toFixed(n < 10 ? 2 : 1)} ms`,
  mb: (n: number): string => `${n.toFixed(0)} MB`,
};

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
