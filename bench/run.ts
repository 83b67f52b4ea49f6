// `npm run bench [-- --only ingest,modbus,alarm-latency,fanout,dashboard-frames,storage,history] [--quick] [--profile] [--duration SECONDS]`: the benchmarks of the targets in docs/design.md.
// Prints a table and writes bench/results.json.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runAlarmLatency } from './alarm-latency.ts';
import { runDashboardFrames } from './dashboard-frames.ts';
import { runFanout } from './fanout/fanout-scenario.ts';
import { runIngest } from './ingest/ingest-scenario.ts';
import { runModbus } from './modbus/modbus-scenario.ts';
import { runHistoryScenario } from './storage/history-scenario.ts';
import { runStorageScenario } from './storage/storage-scenario.ts';
import { runOutboxScenario, runStoreScenario } from './throughput-scenarios.ts';
import type { CpuProfileSummary } from './cpu-profile.ts';
import type { BenchOptions, ScenarioResult } from './scenario.ts';

const SCENARIOS: Record<string, (o: BenchOptions) => Promise<ScenarioResult>> = {
  ingest: runIngest,
  modbus: runModbus,
  'alarm-latency': runAlarmLatency,
  fanout: runFanout,
  'dashboard-frames': runDashboardFrames,
  store: runStoreScenario,
  outbox: runOutboxScenario,
  storage: runStorageScenario,
  history: runHistoryScenario,
};

function parseArgs(argv: string[]): BenchOptions & { only: string[] } {
  const only: string[] = [];
  let quick = false;
  let profile = false;
  let durationS: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--profile') profile = true;
    else if (a === '--duration') durationS = Number(argv[++i]);
    else if (a === '--only') only.push(...(argv[++i] ?? '').split(','));
    else if (a.startsWith('--only=')) only.push(...a.slice(7).split(','));
    else throw new Error(`unknown argument '${a}'; use --only ${Object.keys(SCENARIOS).join(',')}, --quick, --profile, --duration SECONDS`);
  }
  for (const name of only) if (!SCENARIOS[name]) throw new Error(`unknown scenario '${name}'; known: ${Object.keys(SCENARIOS).join(', ')}`);
  if (durationS !== undefined && !(durationS > 0)) throw new Error('--duration takes seconds, e.g. --duration 60');
  return { only: only.length ? only : Object.keys(SCENARIOS), quick, profile, ...(durationS ? { durationS } : {}) };
}

function printTable(results: ScenarioResult[]): void {
  const rows: string[][] = [['scenario', 'measure', 'value', 'target', '']];
  for (const r of results) {
    if (r.status !== 'ok') {
      rows.push([r.scenario, `${r.status}: ${(r.reason ?? '').split('\n')[0]}`, '', '', r.status === 'failed' ? 'FAIL' : '']);
      continue;
    }
    for (const row of r.rows) rows.push([r.scenario, row.measure, row.value, row.target ?? '', row.pass === undefined ? '' : row.pass ? 'ok' : 'MISS']);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...r[c]!].length)));
  const line = (r: string[]) => r.map((cell, c) => cell + ' '.repeat(widths[c]! - [...cell].length)).join(' | ');
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows.slice(1)) console.log(line(r));
}

const opts = parseArgs(process.argv.slice(2));
const started = new Date();
// Other work on the machine skews every number here; it is recorded with them.
const loadBefore = loadavg()[0]!;
const results: ScenarioResult[] = [];
for (const name of opts.only) {
  console.error(`bench: ${name}${opts.quick ? ' (quick)' : ''} ...`);
  const t = performance.now();
  const r = await SCENARIOS[name]!(opts);
  console.error(`bench: ${name} ${r.status}${r.reason ? `: ${r.reason}` : ''} (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  results.push(r);
}
printTable(results);
for (const r of results) {
  const profile = (r.details as { profile?: CpuProfileSummary } | undefined)?.profile;
  if (!profile) continue;
  console.log(`\n${r.scenario}: gateway CPU profile, busy ${profile.busyPct.toFixed(0)} % of samples; shares of busy time`);
  console.log('self time:');
  for (const f of profile.bySelf) console.log(`  ${f.selfPct.toFixed(1).padStart(5)} %  ${f.function}  ${f.file}`);
  console.log('on the stack (this repository):');
  for (const f of profile.byTotal) console.log(`  ${f.totalPct.toFixed(1).padStart(5)} %  ${f.function}  ${f.file}`);
}
const out = fileURLToPath(new URL('./results.json', import.meta.url));
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: started.toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 1024 ** 3), node: process.version, loadAverage1mBefore: loadBefore, loadAverage1mAfter: loadavg()[0] },
      quick: opts.quick,
      results,
    },
    null,
    2,
  )}\n`,
);
console.error(`bench: results in ${out}`);
process.exit(results.some((r) => r.status === 'failed') ? 1 : 0);
