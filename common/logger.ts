import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  /** Default `silent`: a library used without a logger, or a test, says nothing. */
  level?: string;
  /** Human-readable lines (pino-pretty) instead of JSON. */
  pretty?: boolean;
}

/** A named pino logger. Processes use processLogger; this is for libraries and tools given no logger. */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'silent';
  if (!options.pretty) return pino({ name, level });
  // In-process and synchronous: a worker-thread transport could lose the last lines at exit.
  return pino({ name, level }, PinoPretty({ colorize: true, sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

/** The logger of a process at LOG_LEVEL: readable lines on a terminal, JSON lines otherwise (for collectors). */
export function processLogger(name: string, level: string): Logger {
  return createLogger(name, { level, pretty: process.stdout.isTTY === true });
}
