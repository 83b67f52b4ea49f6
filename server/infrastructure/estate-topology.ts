import type { SiteConfig } from '../../common/site/types.ts';

/**
 * What depends on what in the estate: a gateway (or the site broker) → a connection (a Modbus TCP
 * converter, a serial bus, a DL/T 645 line) → a device. Connections come from the site file
 * (each device's protocol-neutral `connection`); the gateway of a device is the one it was last
 * heard through.
 */
export class EstateTopology {
  private readonly byConnection = new Map<string, string[]>();
  private readonly buildings = new Map<string, string>();

  constructor(
    private readonly site: Pick<SiteConfig, 'site' | 'devices'>,
    private readonly gatewayOf: (device: string) => string | undefined,
  ) {
    for (const d of site.devices) {
      this.buildings.set(d.id, d.building);
      if (d.connection === undefined) continue;
      const list = this.byConnection.get(d.connection);
      if (list) list.push(d.id);
      else this.byConnection.set(d.connection, [d.id]);
    }
  }

  /** Devices of the site that reach the server through `gateway`. */
  devicesBehind(gateway: string): string[] {
    return this.site.devices.filter((d) => this.gatewayOf(d.id) === gateway).map((d) => d.id);
  }

  /** Devices of the site file on a connection. */
  devicesOn(connection: string): string[] {
    return [...(this.byConnection.get(connection) ?? [])];
  }

  has(device: string): boolean {
    return this.buildings.has(device);
  }

  /** The building of the devices if they are all in one, else the site id (the whole estate). */
  buildingOf(devices: readonly string[]): string {
    const found = new Set(devices.map((d) => this.buildings.get(d)).filter((b) => b !== undefined));
    return found.size === 1 ? [...found][0]! : this.site.site.id;
  }
}
