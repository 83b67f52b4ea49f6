import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import type { Logger } from '../../common/logger.ts';

/** aedes hooks, each a small typed module the server passes in (gateway authentication, topic ACLs). */
export type BrokerAuthenticate = NonNullable<AedesOptions['authenticate']>;
export type BrokerAuthorizePublish = NonNullable<AedesOptions['authorizePublish']>;
export type BrokerAuthorizeSubscribe = NonNullable<AedesOptions['authorizeSubscribe']>;
export type BrokerPublished = NonNullable<AedesOptions['published']>;

export interface EmbeddedBrokerOptions {
  /** 0 picks a free port; the real one is reported on the result. */
  port: number;
  /** Default 127.0.0.1; 0.0.0.0 to accept devices from the network. */
  host?: string;
  authenticate?: BrokerAuthenticate;
  authorizePublish?: BrokerAuthorizePublish;
  authorizeSubscribe?: BrokerAuthorizeSubscribe;
  published?: BrokerPublished;
  logger?: Logger;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly host: string;
  /** `mqtt://host:port`, with 127.0.0.1 when listening on every interface. */
  readonly url: string;
  readonly aedes: Aedes;
  /** Disconnects every client, then stops listening. Idempotent. */
  close(): Promise<void>;
}

/** The broker the server hosts when MQTT_URL is unset (docs/design.md): aedes over a plain TCP listener. */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { port, host = '127.0.0.1', logger } = options;
  const aedesOptions: AedesOptions = {};
  if (options.authenticate) aedesOptions.authenticate = options.authenticate;
  if (options.authorizePublish) aedesOptions.authorizePublish = options.authorizePublish;
  if (options.authorizeSubscribe) aedesOptions.authorizeSubscribe = options.authorizeSubscribe;
  if (options.published) aedesOptions.published = options.published;
  const aedes = await Aedes.createBroker(aedesOptions);

  if (logger) {
    aedes.on('client', (client) => logger.debug({ client: client?.id }, 'mqtt client connected'));
    aedes.on('clientDisconnect', (client) => logger.debug({ client: client?.id }, 'mqtt client disconnected'));
    aedes.on('clientError', (client, err) => logger.debug({ client: client?.id, err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (client, err) => logger.debug({ client: client?.id, err: err.message }, 'mqtt connection error'));
  }

  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  server.on('error', (err) => logger?.error({ err: err.message }, 'mqtt listener error'));
  try {
    server.listen(port, host);
    await once(server, 'listening');
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  const address = server.address();
  const realPort = typeof address === 'object' && address ? address.port : port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  logger?.info({ host, port: realPort }, 'embedded mqtt broker listening');

  let closing: Promise<void> | undefined;
  return {
    port: realPort,
    host,
    url: `mqtt://${urlHost}:${realPort}`,
    aedes,
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        // Sockets that never sent CONNECT are unknown to aedes and would keep the listener open.
        for (const s of sockets) s.destroy();
        await serverClosed;
        logger?.info({ port: realPort }, 'embedded mqtt broker closed');
      })();
      return closing;
    },
  };
}
