import { randomUUID } from 'node:crypto';
import type { Client } from 'aedes';
import { admit, type Admission } from './admission.ts';
import type { BrokerIdentities } from './broker-identity.ts';
import type { BrokerPolicy } from './broker-policy.ts';
import type { BrokerAuthenticate, BrokerPreConnect } from './embedded-broker.ts';

export interface ConnectRefusal {
  clientId: string;
  username: string | undefined;
  reason: Exclude<Admission, { identity: unknown }>['refused'];
}

/**
 * The connect hooks. aedes runs `preConnect` before it gives the client its id and will, and
 * `authenticate` before it registers the client, which is when an older connection with the same
 * id is closed and its session handed over ([MQTT-3.1.4-2]). The decision is made in
 * `preConnect`, on the CONNECT packet (which aedes lets the hook change): a refused CONNECT
 * continues under a fresh client id of its own, without its will and with a clean session, so
 * nothing of the session it named is touched; `authenticate` then answers it with the CONNACK
 * code of the refusal.
 */
export function createConnectHooks(
  policy: BrokerPolicy,
  identities: BrokerIdentities,
  onRefused?: (refusal: ConnectRefusal) => void,
): { preConnect: BrokerPreConnect; authenticate: BrokerAuthenticate } {
  const verdicts = new WeakMap<Client, Admission>();
  return {
    preConnect(client, packet, done) {
      const verdict = admit(policy, { clientId: packet.clientId, username: packet.username, password: packet.password });
      verdicts.set(client, verdict);
      if ('refused' in verdict) {
        onRefused?.({ clientId: packet.clientId, username: packet.username, reason: verdict.refused });
        packet.clientId = `refused-${randomUUID()}`;
        packet.clean = true;
        delete packet.will;
      }
      done(null, true);
    },
    authenticate(client, _username, _password, done) {
      const verdict = verdicts.get(client);
      verdicts.delete(client);
      if (verdict === undefined) return done(Object.assign(new Error('not authorized'), { returnCode: 5 as const }), false);
      if ('refused' in verdict) return done(Object.assign(new Error(verdict.message), { returnCode: verdict.returnCode }), false);
      identities.set(client, verdict.identity);
      done(null, true);
    },
  };
}
