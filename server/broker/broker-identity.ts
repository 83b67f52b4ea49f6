import type { Client } from 'aedes';

/**
 * Who an MQTT connection is. `server`: the server's own consumer; `gateway`: an edge gateway
 * (its id is the MQTT username) with the buildings it serves; `device`: a device publishing on
 * the device topics.
 */
export type BrokerIdentity =
  | { role: 'server'; id: string }
  | { role: 'gateway'; id: string; buildings: ReadonlySet<string> }
  | { role: 'device'; id: string; anonymous: boolean };

/** The identity each connected client authenticated as; kept beside aedes rather than on its Client objects. */
export class BrokerIdentities {
  private readonly byClient = new WeakMap<Client, BrokerIdentity>();

  set(client: Client, identity: BrokerIdentity): void {
    this.byClient.set(client, identity);
  }

  get(client: Client | null): BrokerIdentity | undefined {
    return client ? this.byClient.get(client) : undefined;
  }
}
