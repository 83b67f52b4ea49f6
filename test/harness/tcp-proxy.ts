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

/** A loopback TCP hop to `target` (an mqtt:// or similar URL) that a test can cut. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(to.port), to.hostname);
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
