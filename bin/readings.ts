import { parseArgs } from 'node:util';
import { readEnvironment } from '../common/env.ts';
import { openReadingHistory } from '../common/readings/open-reading-history.ts';
import { AGGREGATES, type Aggregate } from '../common/readings/reading-history.ts';
import { chooseResolution, RESOLUTIONS, retentionsOf, type Resolution, type ResolutionChoice } from '../common/readings/resolution.ts';
import { DEMO_SITE_FILE, loadSiteFile } from '../common/site/load.ts';

/**
 * `npm run readings -- [--building B] [--device D] [--count]`: what the reading store holds
 * (InfluxDB when INFLUX_URL is set, else the SQLite store in DATA_DIR), for operators and checks.
 * `--history METRIC --device D`: its history, from the resolution the range calls for (raw
 * readings or a rollup, docs/gateway.md#rollups), which it names. It only reads: an empty answer
 * until the gateway has written.
 */
const usage =
  'usage: npm run readings -- [--building ID] [--device ID] [--count]\n' +
  '       npm run readings -- --device ID --history METRIC [--minutes N | --days N] [--every SECONDS] [--aggregate mean|min|max|first|last|sum|count|delta] [--resolution auto|raw|1m|1h]\n';
const { values } = parseArgs({
  options: {
    building: { type: 'string' },
    device: { type: 'string' },
    count: { type: 'boolean' },
    history: { type: 'string' },
    minutes: { type: 'string' },
    days: { type: 'string' },
    every: { type: 'string' },
    aggregate: { type: 'string', default: 'mean' },
    resolution: { type: 'string', default: 'auto' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}

/** A positive number of an option, or a message naming it. */
function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!(n > 0)) throw new Error(`--${name} takes a positive number, got '${text}'`);
  return n;
}

const env = readEnvironment();
const store = openReadingHistory({ influxUrl: env.influxUrl, dataDir: env.dataDir });
const filter = { ...(values.building ? { building: values.building } : {}), ...(values.device ? { device: values.device } : {}) };
try {
  if (values.count) {
    process.stdout.write(`${await store.count(filter)} readings\n`);
  } else if (values.history) {
    if (!values.device) throw new Error('--history needs --device');
    const aggregate = values.aggregate as Aggregate;
    if (!AGGREGATES.includes(aggregate)) throw new Error(`--aggregate: one of ${AGGREGATES.join(', ')}`);
    const to = Date.now();
    const span = (positive('days', values.days) ?? 0) * 86_400_000 + (positive('minutes', values.minutes) ?? (values.days ? 0 : 60)) * 60_000;
    const from = to - span;
    const everySeconds = positive('every', values.every);
    const every = everySeconds === undefined ? undefined : Math.round(everySeconds * 1000);
    const site = loadSiteFile(env.siteConfig ?? DEMO_SITE_FILE, env.siteVariables);
    let choice: ResolutionChoice;
    if (values.resolution === 'auto') choice = chooseResolution({ from, to, every }, retentionsOf(site.gateway.store), to);
    else if ((RESOLUTIONS as string[]).includes(values.resolution)) choice = { resolution: values.resolution as Resolution, every: every ?? (values.resolution === '1h' ? 3_600_000 : values.resolution === '1m' ? 60_000 : undefined) };
    else throw new Error(`--resolution: one of auto, ${RESOLUTIONS.join(', ')}`);
    const points = await store.range({
      device: values.device,
      metric: values.history,
      from,
      to,
      resolution: choice.resolution,
      ...(choice.every !== undefined ? { every: choice.every, aggregate } : {}),
    });
    const how = choice.every === undefined ? 'raw readings' : `${aggregate} of every ${choice.every / 1000} s from ${choice.resolution === 'raw' ? 'raw readings' : `the ${choice.resolution} rollup`}`;
    process.stdout.write(`${values.device} ${values.history}, ${new Date(from).toISOString()} to ${new Date(to).toISOString()}: ${how}\n`);
    for (const p of points) process.stdout.write(`${new Date(p.ts).toISOString()}  ${p.metric}  ${p.value ?? 'null'}\n`);
    process.stdout.write(`${points.length} points, resolution ${choice.resolution}\n`);
  } else {
    const latest = await store.latest(filter);
    const devices = new Set(latest.map((r) => r.device));
    for (const r of latest) {
      process.stdout.write(
        `${r.building.padEnd(4)} ${r.device.padEnd(18)} ${r.metric.padEnd(14)} ${String(r.value ?? 'null').padStart(12)} ${(r.engUnit ?? '').padEnd(5)} ${r.quality.padEnd(4)} ${new Date(r.ts).toISOString()}\n`,
      );
    }
    process.stdout.write(`${latest.length} series of ${devices.size} devices\n`);
  }
} catch (err) {
  process.stderr.write(`readings: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await store.close();
}
