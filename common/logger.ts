import { pino, type Logger } from 'pino';

export type { Logger };

/** The process logger: structured JSON, level from LOG_LEVEL (default info; silent under tests unless set). */
export function createLogger(name: string): Logger {
  const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  return pino({ name, level });
}
