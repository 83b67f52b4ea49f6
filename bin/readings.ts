import { parseArgs } from 'node:util';
import { readEnvironment } from '../common/env.ts';
import { openReadingHistory } from '../common/readings/open-reading-history.ts';

/**
 * `npm run readings -- [--building B] [--device D] [--count]`: what the reading store holds
 * (InfluxDB when INFLUX_URL is set, else the SQLite store in DATA_DIR), for operators and checks.
 * It only reads: an empty answer until the gateway has written.
 */
const usage = 'usage: npm run readings -- [--building ID] [--device ID] [--count] [--history METRIC --minutes N --every SECONDS]\n';
const { values } = parseArgs({
  options: {
    building: { type: 'string' },
    device: { type: 'string' },
    count: { type: 'boolean' },
    history: { type: 'string' },
    minutes: { type: 'string', default: '60' },
    every: { type: 'string', default: '60' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const env = readEnvironment();
const store = openReadingHistory({ influxUrl: env.influxUrl, dataDir: env.dataDir });
const filter = { ...(values.building ? { building: values.building } : {}), ...(values.device ? { device: values.device } : {}) };
try {
  if (values.count) {
    process.stdout.write(`${await store.count(filter)} readings\n`);
  } else if (values.history) {
    if (!values.device) throw new Error('--history needs --device');
    const to = Date.now();
    const points = await store.range({
      device: values.device,
      metric: values.history,
      from: to - Number(values.minutes) * 60_000,
      to,
      every: Number(values.every) * 1000,
      aggregate: 'mean',
    });
    for (const p of points) process.stdout.write(`${new Date(p.ts).toISOString()}  ${p.metric}  ${p.value ?? 'null'}\n`);
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
