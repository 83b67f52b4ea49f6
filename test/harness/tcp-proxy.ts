import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './ports.ts';

export interface TcpProxy {
  /** Where clients connect instead of the target. */
  url: string;
  port: number;
  /** Destroys every open connection at once, as a crash or a network failure would; new ones are accepted. */
  cut(): void;
  close(): Promise<void>;
}

export type ProxyDirection = 'to-target' | 'to-client';

/**
 * A loopback TCP hop to `target` (an mqtt:// or similar URL) that a test can cut. `observe` sees
 * every chunk passing, with the number of its connection (1, 2, ... in the order they were accepted).
 */
export async function startTcpProxy(target: string, observe?: (connection: number, direction: ProxyDirection, chunk: Buffer) => void): Promise<TcpProxy> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(to.port), to.hostname);
    if (observe) {
      const connection = ++connections;
      inbound.on('data', (chunk: Buffer) => observe(connection, 'to-target', chunk));
      outbound.on('data', (chunk: Buffer) => observe(connection, 'to-client', chunk));
    }
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `${to.protocol}//127.0.0.1:${port}`,
    port,
    cut: () => sockets.forEach((s) => s.destroy()),
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
