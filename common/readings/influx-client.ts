import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { InfluxDB, type IPoolOptions } from 'influx';
import type { InfluxQuery, QueryResponse } from './influxql.ts';

/** Where INFLUX_URL points: `http://user:pass@127.0.0.1:8086/facility`. */
export interface InfluxTarget {
  protocol: 'http' | 'https';
  hostname: string;
  port: number;
  database: string;
  username?: string;
  password?: string;
  /** `http://127.0.0.1:8086/facility`: for messages, without credentials. */
  location: string;
}

/** Parses INFLUX_URL; throws naming what to fix. */
export function parseInfluxUrl(url: string): InfluxTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`INFLUX_URL ${url}: not a URL (example: http://127.0.0.1:8086/facility)`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, ''));
  if (!database) throw new Error(`INFLUX_URL ${redact(u)}: name the database in the path, e.g. http://127.0.0.1:8086/facility`);
  const protocol = u.protocol === 'https:' ? 'https' : 'http';
  const port = Number(u.port || (protocol === 'https' ? 443 : 80));
  const target: InfluxTarget = { protocol, hostname: u.hostname, port, database, location: `${protocol}://${u.hostname}:${port}/${database}` };
  if (u.username) {
    target.username = decodeURIComponent(u.username);
    target.password = u.password ? decodeURIComponent(u.password) : '';
  }
  return target;
}

type Backoff = NonNullable<IPoolOptions['backoff']>;

/** How long a host that failed is skipped: short, because callers retry and a long one only delays recovery. */
export function shortBackoff(attempt = 0): Backoff {
  return { getDelay: () => Math.min(2_000, 100 * 2 ** attempt), next: () => shortBackoff(attempt + 1), reset: () => shortBackoff(0) };
}

/** A query InfluxDB answered with an error (as opposed to not answering). */
export class InfluxAnswerError extends Error {
  override name = 'InfluxAnswerError';
  constructor(
    message: string,
    /** InfluxDB's own words, e.g. `database not found: facility`. */
    readonly answer: string,
  ) {
    super(message);
  }
}

/** True when InfluxDB answered that the database or the retention policy does not exist (yet). */
export function isMissingDatabase(err: unknown): boolean {
  return err instanceof InfluxAnswerError && /^(database|retention policy) not found/.test(err.answer);
}

/** InfluxQL over HTTP to one InfluxDB 1.x database, on a keep-alive agent. */
export class InfluxQueryClient {
  readonly target: InfluxTarget;
  /** The keep-alive agent, shared with the gateway's write requests. */
  readonly agent: HttpAgent;
  private readonly client: InfluxDB;

  constructor(url: string, opts: { requestTimeoutMs?: number } = {}) {
    this.target = parseInfluxUrl(url);
    const { protocol, hostname, port, database, username, password } = this.target;
    this.agent = protocol === 'https' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.client = new InfluxDB({
      hosts: [{ host: hostname, port, protocol, options: { agent: this.agent } }],
      database,
      ...(username !== undefined ? { username, password: password ?? '' } : {}),
      pool: { maxRetries: 0, requestTimeout: opts.requestTimeoutMs ?? 30_000, backoff: shortBackoff() },
    });
  }

  async query(q: InfluxQuery): Promise<QueryResponse> {
    let res: QueryResponse;
    try {
      res = (await this.client.queryRaw(q.text, { database: this.target.database, precision: 'ms', placeholders: q.params })) as QueryResponse;
    } catch (err) {
      throw this.failure(q.what, err);
    }
    const error = res.error ?? res.results?.find((r) => r.error)?.error;
    if (error) throw new InfluxAnswerError(`InfluxDB ${q.what} on ${this.target.location} failed: ${error}`, error);
    return res;
  }

  /** An error naming what failed where, with the package's message made readable. */
  failure(what: string, err: unknown): Error {
    return new Error(`InfluxDB ${what} on ${this.target.location} failed: ${describeFailure(err)}`);
  }

  close(): void {
    this.agent.destroy();
  }
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection lost',
  EPIPE: 'connection lost',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
};

/** The package's errors made readable: `A 400 Bad Request error occurred: {"error":"…"}`, `No host available`, socket errors. */
function describeFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_ERRORS[code]) return `${NETWORK_ERRORS[code]} (${message})`;
  if (message === 'No host available') return 'unreachable (connection failed just before; backing off)';
  if (message === 'Request timed out') return 'timed out';
  const m = /^A (\d+) (.*?) error occurred: (.*)$/s.exec(message);
  if (!m) return message;
  let detail = m[3]!.trim();
  try {
    const body = JSON.parse(detail) as { error?: unknown };
    if (typeof body.error === 'string') detail = body.error;
  } catch {
    // not JSON: keep the body as it came
  }
  return `${m[1]} ${m[2]}: ${detail}`;
}

function redact(u: URL): string {
  const c = new URL(u.href);
  if (c.password) c.password = '***';
  return c.href;
}
