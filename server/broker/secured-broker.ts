import type { Logger } from '../../common/logger.ts';
import { createConnectHooks } from './authenticate.ts';
import { createAuthorizePublish } from './authorize-publish.ts';
import { createAuthorizeSubscribe } from './authorize-subscribe.ts';
import { BrokerIdentities } from './broker-identity.ts';
import type { BrokerPolicy } from './broker-policy.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.ts';
import { RefusalLog } from './refusal-log.ts';
import { RetainedLimit } from './retained-limit.ts';

export interface BrokerRefusals {
  connects: number;
  publishes: number;
  subscribes: number;
  packets: number;
}

export interface SecuredBroker {
  broker: EmbeddedBroker;
  policy: BrokerPolicy;
  /** Refused connections, publishes, subscriptions and oversize packets since start. */
  readonly refused: Readonly<BrokerRefusals>;
  /** The same by reason, for /metrics (docs/broker.md#refusals). */
  refusals(): { what: string; reason: string; n: number }[];
  /** Retained messages the broker keeps. */
  readonly retained: number;
  close(): Promise<void>;
}

export interface SecuredBrokerOptions {
  port: number;
  host?: string;
  /** MQTTS beside the plain port. */
  tls?: { cert: string; key: string; port: number };
  policy: BrokerPolicy;
  logger?: Logger;
}

/** The embedded broker with the client-id binding, authentication, topic hooks and limits of the policy. */
export async function startSecuredBroker(options: SecuredBrokerOptions): Promise<SecuredBroker> {
  const { policy, logger } = options;
  const identities = new BrokerIdentities();
  const log = new RefusalLog(logger);
  // A retained message must also fit in one packet: the retained limit adds the count.
  const retained = new RetainedLimit(policy.limits.maxRetained, policy.limits.maxPacketBytes);
  const connect = createConnectHooks(policy, identities, ({ clientId, username, reason }) =>
    log.refuse('connects', reason, username ?? clientId, { clientId, username }, 'mqtt connection refused'),
  );
  const broker = await startEmbeddedBroker({
    port: options.port,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(logger ? { logger } : {}),
    maxPacketBytes: policy.limits.maxPacketBytes,
    onOversizePacket: (address, reason) => log.refuse('packets', 'packet-size', address ?? 'unknown', { address, detail: reason }, 'mqtt connection closed: packet too large'),
    preConnect: connect.preConnect,
    authenticate: connect.authenticate,
    authorizePublish: createAuthorizePublish(identities, retained, ({ client, topic, reason }) =>
      log.refuse('publishes', reason, client, { topic }, 'mqtt publish refused; client disconnected'),
    ),
    authorizeSubscribe: createAuthorizeSubscribe(identities, (client, filter) => log.refuse('subscribes', 'topic', client, { filter }, 'mqtt subscription refused')),
  });
  return {
    broker,
    policy,
    refused: {
      get connects() {
        return log.total('connects');
      },
      get publishes() {
        return log.total('publishes');
      },
      get subscribes() {
        return log.total('subscribes');
      },
      get packets() {
        return log.total('packets');
      },
    },
    refusals: () => log.entries(),
    get retained() {
      return retained.size;
    },
    close: () => broker.close(),
  };
}
