// Scenario `dashboard-frames` (docs/dashboard.md): the dashboard in headless Chromium, on the building
// view of the demo estate's busiest tower, while 10,000 readings/s flow into the server. Measures in
// the page the longest gap between animation frames, long tasks (PerformanceObserver), and how many
// device states the page applied. Standalone: `npx tsx bench/dashboard-frames.ts [--quick]`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainModule } from '../common/run-process.ts';
import { DEMO_SITE_FILE, loadSiteFile } from '../common/site/load.ts';
import type { Reading } from '../common/reading.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { UpstreamPublisher } from '../gateway/upstream/upstream-publisher.ts';
import { ensureDashboardBuilt } from '../server/dashboard/dashboard-build.ts';
import { hasChromium, launchChromium } from '../test/harness/chromium.ts';
import { forkTs, type BenchChild } from './child-process.ts';
import { fmt, percentile, skipped, sleep, type BenchOptions, type ScenarioResult } from './scenario.ts';

const READINGS_PER_S = 10_000;
const FANOUT = fileURLToPath(new URL('./fanout/fanout-scenario.ts', import.meta.url));
// The demo estate's own gateway: only it may publish for the demo buildings.
const GATEWAY = { id: 'gw-sunshine-1', password: 'fanout-gateway-password' };
/** A frame gap this long is a stall a person notices. */
const TARGET_MAX_FRAME_MS = 200;
const METRICS: Record<string, string[]> = {
  tank: ['level_mm', 'pump_running', 'float_low', 'float_high'],
  'meter-water': ['volume_m3', 'flow_m3h'],
  'meter-gas': ['volume_m3'],
  'meter-electric': ['voltage_v', 'current_a', 'power_w', 'energy_kwh'],
};

export interface FrameDetails {
  seconds: number;
  readingsPerS: number;
  frames: number;
  frameGapMs: { p50: number; p99: number; max: number };
  longTasks: { count: number; maxMs: number; totalMs: number };
  deviceStatesPerS: number;
  rendersPerS: number;
}

interface PageSample {
  gaps: number[];
  longTasks: number[];
  deviceStates: number;
  renders: number;
}

export async function runDashboardFrames(opts: BenchOptions): Promise<ScenarioResult> {
  if (!hasChromium()) return skipped('dashboard-frames', 'chromium is not installed (apt-get install chromium)');
  const seconds = opts.durationS ?? (opts.quick ? 8 : 20);
  await ensureDashboardBuilt();
  const children: BenchChild[] = [];
  let publisher: UpstreamPublisher | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'fm-bench-frames-'));
  const browser = await launchChromium({ width: 1600, height: 1000 });
  try {
    const server = forkTs(FANOUT, { args: ['--server', dir, '1'] });
    children.push(server);
    const { url, brokerUrl, tokens } = await server.next<{ url: string; brokerUrl: string; tokens: string[] }>('ready', 120_000);
    const page = browser.page;
    await page.goto(url);
    await page.evaluate(
      ([token]) => localStorage.setItem('fm.session', JSON.stringify({ token, expiresAt: Date.now() + 3_600_000, user: { id: 0, username: 'demo-viewer', displayName: 'bench', role: 'viewer' } })),
      [tokens[0]!],
    );
    await page.goto(`${url}/#/building/T1`);
    await page.reload();
    await page.waitForSelector('.building-view .meter-table');

    const site = loadSiteFile(DEMO_SITE_FILE);
    const points = site.devices.filter((d) => METRICS[d.kind]).flatMap((d) => METRICS[d.kind]!.map((metric) => ({ d, metric })));
    publisher = new UpstreamPublisher({ brokerUrl, gatewayId: GATEWAY.id, username: GATEWAY.id, password: GATEWAY.password, metrics: new MetricsRegistry(), reconnectPeriodMs: 500 });
    await publisher.start();
    let running = true;
    let published = 0;
    let failures = 0;
    let inFlight = 0;
    let next = 0;
    const tickMs = 20;
    const started = Date.now();
    let sent = 0;
    const loop = (async () => {
      while (running) {
        const t = Date.now();
        // As many readings as the rate asks for by now, whatever the timer's drift.
        const due = Math.floor(((t - started) * READINGS_PER_S) / 1000) - sent;
        sent += due;
        const readings: Reading[] = [];
        for (let i = 0; i < due; i++) {
          const { d, metric } = points[next++ % points.length]!;
          const value = metric === 'level_mm' ? 2000 + (next % 100) : metric.startsWith('float') || metric === 'pump_running' ? next % 2 : 100 + (next % 1000) / 1000;
          readings.push({ building: d.building, device: d.id, kind: d.kind, metric, value, ts: t, quality: 'good' });
        }
        // Up to four deliveries in flight, as the gateway's delivery loop pipelines them.
        while (inFlight >= 4) await sleep(1);
        inFlight++;
        publisher!.deliver([{ readings, events: [] }]).then(
          () => (published += readings.length),
          // The publisher reconnects by itself; these readings are not counted.
          () => failures++,
        ).finally(() => inFlight--);
        await sleep(Math.max(0, tickMs - (Date.now() - t)));
      }
    })();
    await sleep(3000);
    const published0 = published;
    const t0 = performance.now();
    // As a string: tsx names arrow functions with a helper the page does not have.
    await page.evaluate(`(() => {
      const trace = window.__fmTrace;
      const bench = { gaps: [], longTasks: [], deviceStates: -trace.deviceStates, renders: -trace.renders, stop: false };
      window.__bench = bench;
      new PerformanceObserver((list) => { for (const e of list.getEntries()) bench.longTasks.push(e.duration); }).observe({ type: 'longtask' });
      let last = performance.now();
      const frame = (now) => { bench.gaps.push(now - last); last = now; if (!bench.stop) requestAnimationFrame(frame); };
      requestAnimationFrame(frame);
    })()`);
    await sleep(seconds * 1000);
    const sample = (await page.evaluate(`(() => {
      const bench = window.__bench;
      bench.stop = true;
      return { gaps: bench.gaps, longTasks: bench.longTasks, deviceStates: bench.deviceStates + window.__fmTrace.deviceStates, renders: bench.renders + window.__fmTrace.renders };
    })()`)) as PageSample;
    const elapsed = (performance.now() - t0) / 1000;
    const readingsPerS = (published - published0) / elapsed;
    running = false;
    await loop;

    const details: FrameDetails = {
      seconds: elapsed,
      readingsPerS,
      frames: sample.gaps.length,
      frameGapMs: { p50: percentile(sample.gaps, 50), p99: percentile(sample.gaps, 99), max: sample.gaps.reduce((m, g) => Math.max(m, g), 0) },
      longTasks: { count: sample.longTasks.length, maxMs: sample.longTasks.reduce((m, g) => Math.max(m, g), 0), totalMs: sample.longTasks.reduce((a, b) => a + b, 0) },
      deviceStatesPerS: sample.deviceStates / elapsed,
      rendersPerS: sample.renders / elapsed,
    };
    return {
      scenario: 'dashboard-frames',
      status: 'ok',
      rows: [
        { measure: 'readings/s into the server (failed deliveries)', value: `${fmt.int(readingsPerS)} (${failures})`, target: `≥ ${fmt.int(READINGS_PER_S * 0.95)}`, pass: readingsPerS >= READINGS_PER_S * 0.95 },
        { measure: 'device states applied by the page /s', value: fmt.int(details.deviceStatesPerS) },
        { measure: 'renders /s (one per frame with news)', value: fmt.int(details.rendersPerS) },
        { measure: 'frame gap p50 / p99', value: `${fmt.ms(details.frameGapMs.p50)} / ${fmt.ms(details.frameGapMs.p99)}` },
        { measure: 'longest frame gap', value: fmt.ms(details.frameGapMs.max), target: `< ${TARGET_MAX_FRAME_MS} ms`, pass: details.frameGapMs.max < TARGET_MAX_FRAME_MS },
        { measure: 'long tasks (> 50 ms): count / longest', value: `${details.longTasks.count} / ${fmt.ms(details.longTasks.maxMs)}` },
      ],
      details,
    };
  } catch (err) {
    return { scenario: 'dashboard-frames', status: 'failed', reason: err instanceof Error ? (err.stack ?? err.message) : String(err), rows: [] };
  } finally {
    await publisher?.stop().catch(() => undefined);
    await browser.close();
    for (const c of children.reverse()) await c.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMainModule(import.meta.url)) {
  const r = await runDashboardFrames({ quick: process.argv.includes('--quick'), profile: false });
  if (r.status !== 'ok') {
    console.error(`dashboard-frames ${r.status}: ${r.reason}`);
    process.exitCode = 1;
  } else {
    for (const row of r.rows) console.log(`${row.measure.padEnd(42)} ${row.value.padStart(20)}  ${row.target ?? ''} ${row.pass === undefined ? '' : row.pass ? 'ok' : 'MISS'}`);
  }
}
