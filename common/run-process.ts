import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readEnvironment, type Environment } from './env.ts';
import { processLogger, type Logger } from './logger.ts';

/** True when the module at `url` is the script node was started with. */
export function isMainModule(url: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(fileURLToPath(url)) === realpathSync(script);
  } catch {
    return false;
  }
}

/**
 * A process entry: reads the environment, makes the process logger (named `name`, at LOG_LEVEL),
 * runs `start` until SIGINT/SIGTERM, then `stop`. A configuration error exits 78 (EX_CONFIG) with
 * its message, anything else that stops the start exits 1.
 */
export async function runUntilSignalled(name: string, start: (env: Environment, logger: Logger) => Promise<{ stop(): Promise<void> }>): Promise<void> {
  let running: { stop(): Promise<void> };
  let logger: Logger;
  try {
    const env = readEnvironment();
    logger = processLogger(name, env.logLevel);
    running = await start(env, logger);
  } catch (err) {
    const e = err as Error;
    const config = e.name === 'SiteConfigError' || e.name === 'EnvironmentError';
    process.stderr.write(`${name}: ${config ? e.message : e.stack ?? e.message}\n`);
    process.exit(config ? 78 : 1);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    running.stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

