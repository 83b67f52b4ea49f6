import { parseArgs } from 'node:util';
import { brokerUrl, readEnvironment, type Environment } from '../common/env.ts';
import { createLogger, processLogger, type Logger } from '../common/logger.ts';
import { isMainModule } from '../common/run-process.ts';
import { loadSiteFile } from '../common/site/load.ts';
import { startEstate, type RunningEstate } from './estate-simulator.ts';
import { isScenarioName, SCENARIOS, SCENARIO_NAMES, UnknownScenarioError, type ScenarioOptions } from './scenarios.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export function usage(): string {
  const width = Math.max(...SCENARIO_NAMES.map((n) => n.length));
  return [
    'Usage: npm run devices -- [--scenario NAME] [options]',
    '',
    'Simulates the devices of the estate: Modbus TCP/RTU slaves for tanks and meters, DL/T 645',
    'electricity meters, MQTT publishers for fire panels, door controllers and emergency buttons.',
    '',
    'Options:',
    '  --scenario NAME        fault to inject (default normal)',
    '  --site FILE            site file (default: SITE_CONFIG, else the demo estate)',
    '  --target ID            device (unit for custody-leak, Modbus connection for storm) the scenario acts on',
    '  --duration-ms N        how long device-offline / modbus-faults keep devices away',
    '  --seed N               PRNG seed (default 1)',
    '  --tick-ms N            model step and register refresh period (default 1000)',
    '  --telemetry-ms N       MQTT telemetry period (default 5000)',
    '  --rtu ID=PATH          serve serial connection ID (Modbus RTU or DL/T 645) on serial device PATH (repeatable)',
    '  -h, --help             this text',
    '',
    'Environment: MQTT_URL (else mqtt://127.0.0.1:$MQTT_PORT, 1883), SITE_CONFIG, LOG_LEVEL.',
    '',
    'Scenarios:',
    ...SCENARIO_NAMES.map((n) => `  ${n.padEnd(width)}  ${SCENARIOS[n].description}`),
    '',
  ].join('\n');
}

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} ${raw}: must be a positive whole number`);
  return n;
}

export interface RunDevicesIo {
  /** Default: readEnvironment(). */
  environment?: Environment;
  stdout?: { write(text: string): unknown };
  logger?: Logger;
}

/** The `devices` command. Resolves to the running estate, or undefined when it only printed help. */
export async function runDevices(argv: readonly string[], io: RunDevicesIo = {}): Promise<RunningEstate | undefined> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        scenario: { type: 'string' },
        site: { type: 'string' },
        target: { type: 'string' },
        'duration-ms': { type: 'string' },
        seed: { type: 'string' },
        'tick-ms': { type: 'string' },
        'telemetry-ms': { type: 'string' },
        rtu: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    (io.stdout ?? process.stdout).write(usage());
    return undefined;
  }
  const scenario = v.scenario ?? 'normal';
  if (!isScenarioName(scenario)) throw new UnknownScenarioError(scenario);
  const rtu: Record<string, string> = {};
  for (const entry of v.rtu ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0 || eq === entry.length - 1) throw new UsageError(`--rtu ${entry}: expected CONNECTION_ID=SERIAL_PATH`);
    rtu[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const scenarioOptions: ScenarioOptions = {};
  if (v.target !== undefined) scenarioOptions.target = v.target;
  const durationMs = positiveInt('duration-ms', v['duration-ms']);
  if (durationMs !== undefined) scenarioOptions.durationMs = durationMs;

  const environment = io.environment ?? readEnvironment();
  const site = loadSiteFile(v.site ?? environment.siteConfig, environment.siteVariables);
  const logger = io.logger ?? createLogger('devices', { level: environment.logLevel });
  return startEstate({
    site,
    brokerUrl: brokerUrl(environment),
    scenario,
    scenarioOptions,
    logger,
    rtu,
    ...(v.seed !== undefined ? { seed: /^\d+$/.test(v.seed) ? Number(v.seed) : v.seed } : {}),
    ...(v['tick-ms'] !== undefined ? { tickMs: positiveInt('tick-ms', v['tick-ms']) } : {}),
    ...(v['telemetry-ms'] !== undefined ? { telemetryIntervalMs: positiveInt('telemetry-ms', v['telemetry-ms']) } : {}),
  });
}

async function main(): Promise<void> {
  let logger: Logger | undefined;
  let estate: RunningEstate | undefined;
  try {
    const environment = readEnvironment();
    logger = processLogger('devices', environment.logLevel);
    estate = await runDevices(process.argv.slice(2), { environment, logger });
  } catch (err) {
    const e = err as Error;
    if (e instanceof UsageError || e instanceof UnknownScenarioError) {
      process.stderr.write(`${e.message}\n\n${usage()}`);
      process.exitCode = 2;
      return;
    }
    if (e.name === 'EnvironmentError' || e.name === 'SiteConfigError') {
      process.stderr.write(`devices: ${e.message}\n`);
      process.exitCode = 78;
      return;
    }
    if (logger) logger.fatal({ err: e.message }, 'devices could not start');
    else process.stderr.write(`devices: ${e.stack ?? e.message}\n`);
    process.exitCode = 1;
    return;
  }
  if (!estate || !logger) return;
  const running = estate;
  const log = logger;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    // Whatever still holds the loop open after a clean stop is not worth hanging for.
    setTimeout(() => process.exit(0), 10_000).unref();
    void running.stop().then(() => setTimeout(() => process.exit(0), 1000).unref());
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (isMainModule(import.meta.url)) void main();
