import type { Logger } from '../../common/logger.ts';
import { createAuthenticate } from './authenticate.ts';
import { createAuthorizePublish } from './authorize-publish.ts';
import { createAuthorizeSubscribe } from './authorize-subscribe.ts';
import { BrokerIdentities } from './broker-identity.ts';
import type { BrokerPolicy } from './broker-policy.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.ts';

export interface BrokerRefusals {
  connects: number;
  publishes: number;
  subscribes: number;
}

export interface SecuredBroker {
  broker: EmbeddedBroker;
  policy: BrokerPolicy;
  /** Refused connections, publishes and subscriptions since start, for /metrics. */
  readonly refused: Readonly<BrokerRefusals>;
  close(): Promise<void>;
}

export interface SecuredBrokerOptions {
  port: number;
  host?: string;
  policy: BrokerPolicy;
  logger?: Logger;
}

/** The embedded broker with the authentication and topic hooks of the policy. */
export async function startSecuredBroker(options: SecuredBrokerOptions): Promise<SecuredBroker> {
  const { policy, logger } = options;
  const identities = new BrokerIdentities();
  const refused: BrokerRefusals = { connects: 0, publishes: 0, subscribes: 0 };
  const broker = await startEmbeddedBroker({
    port: options.port,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(logger ? { logger } : {}),
    authenticate: createAuthenticate(policy, identities, (username, reason) => {
      refused.connects++;
      logger?.warn({ username, reason }, 'mqtt connection refused');
    }),
    authorizePublish: createAuthorizePublish(identities, (client, topic) => {
      refused.publishes++;
      logger?.warn({ client, topic }, 'mqtt publish refused; client disconnected');
    }),
    authorizeSubscribe: createAuthorizeSubscribe(identities, (client, filter) => {
      refused.subscribes++;
      logger?.warn({ client, filter }, 'mqtt subscription refused');
    }),
  });
  return { broker, policy, refused, close: () => broker.close() };
}
