import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { bearerToken } from '../auth/bearer-token.ts';

/** Whether an Authorization header carries `token`, compared in constant time. */
export function tokenMatches(authorization: string | undefined, token: string): boolean {
  const given = bearerToken(authorization);
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** /metrics on a port of its own (METRICS_PORT), typically on a loopback or management interface. */
export async function startMetricsListener(opts: {
  port: number;
  host: string;
  token: string | undefined;
  tls?: { cert: string; key: string };
  render: () => Promise<string>;
  log: FastifyBaseLogger;
}): Promise<{ port: number; close(): Promise<void> }> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    if (opts.token !== undefined && !tokenMatches(req.headers.authorization, opts.token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' }).end('send the metrics token (METRICS_TOKEN) as "Authorization: Bearer <token>"\n');
      return;
    }
    opts.render().then(
      (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
      (err: unknown) => {
        opts.log.error({ err }, 'metrics could not be collected');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected; see the server log\n');
      },
    );
  };
  const server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handle) : createHttpServer(handle);
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  opts.log.info({ host: opts.host, port }, 'metrics listening on their own port');
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
