import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions } from 'aedes';
import type { Logger } from '../../common/logger.ts';
import { limitPacketSize } from './packet-limit.ts';

/** aedes hooks, each a small typed module the server passes in (gateway authentication, topic ACLs). */
export type BrokerPreConnect = NonNullable<AedesOptions['preConnect']>;
export type BrokerAuthenticate = NonNullable<AedesOptions['authenticate']>;
export type BrokerAuthorizePublish = NonNullable<AedesOptions['authorizePublish']>;
export type BrokerAuthorizeSubscribe = NonNullable<AedesOptions['authorizeSubscribe']>;
export type BrokerPublished = NonNullable<AedesOptions['published']>;

export interface EmbeddedBrokerOptions {
  /** 0 picks a free port; the real one is reported on the result. */
  port: number;
  /** Default 127.0.0.1; 0.0.0.0 to accept devices from the network. */
  host?: string;
  /** MQTTS beside the plain listener: the certificate and key (PEM), on `port` (0: a free one). */
  tls?: { cert: string; key: string; port: number };
  /** Largest MQTT packet read from a client; a larger one ends its connection (default: no limit). */
  maxPacketBytes?: number;
  /** A packet over maxPacketBytes arrived from a client at `address`. */
  onOversizePacket?: (address: string | undefined, reason: string) => void;
  preConnect?: BrokerPreConnect;
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
  /** `mqtts://host:port` when TLS is on. */
  readonly tlsUrl: string | undefined;
  readonly tlsPort: number | undefined;
  readonly aedes: Aedes;
  /** Disconnects every client, then stops listening. Idempotent. */
  close(): Promise<void>;
}

/** The broker the server hosts when MQTT_URL is unset (docs/design.md): aedes over a plain TCP listener. */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { port, host = '127.0.0.1', logger } = options;
  const aedesOptions: AedesOptions = {};
  if (options.preConnect) aedesOptions.preConnect = options.preConnect;
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
  const accept = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const { maxPacketBytes, onOversizePacket } = options;
    if (maxPacketBytes === undefined) aedes.handle(socket);
    else aedes.handle(limitPacketSize(socket, maxPacketBytes, (reason) => onOversizePacket?.(socket.remoteAddress, reason)));
  };
  const servers: Server[] = [createServer(accept)];
  if (options.tls) servers.push(createTlsServer({ cert: options.tls.cert, key: options.tls.key }, accept));
  const ports: number[] = [];
  try {
    for (const [i, server] of servers.entries()) {
      server.on('error', (err) => logger?.error({ err: err.message }, 'mqtt listener error'));
      server.listen(i === 0 ? port : options.tls!.port, host);
      await once(server, 'listening');
      const address = server.address();
      ports.push(typeof address === 'object' && address ? address.port : port);
    }
  } catch (err) {
    for (const server of servers) server.close();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  const [realPort, tlsPort] = ports as [number, number | undefined];
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  logger?.info({ host, port: realPort, ...(tlsPort !== undefined && { tlsPort }) }, 'embedded mqtt broker listening');

  let closing: Promise<void> | undefined;
  return {
    port: realPort,
    host,
    url: `mqtt://${urlHost}:${realPort}`,
    tlsUrl: tlsPort === undefined ? undefined : `mqtts://${urlHost}:${tlsPort}`,
    tlsPort,
    aedes,
    close() {
      closing ??= (async () => {
        const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        // Sockets that never sent CONNECT are unknown to aedes and would keep the listener open.
        for (const s of sockets) s.destroy();
        await Promise.all(closed);
        logger?.info({ port: realPort }, 'embedded mqtt broker closed');
      })();
      return closing;
    },
  };
}
