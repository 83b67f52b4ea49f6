import { DEVICE_EVENTS, reportableMetrics, type DeviceKind } from '../../common/reading.ts';
import { gatewayOfBuilding } from '../../common/site/gateways.ts';
import type { SiteConfig } from '../../common/site/types.ts';

/** What the upstream consumer checks a message against: who serves a building, what a device reports. */
export interface UpstreamSiteView {
  gatewayOf(building: string): string | undefined;
  device(id: string): { kind: DeviceKind; metrics: ReadonlySet<string>; events?: readonly string[] } | undefined;
  knowsGateway(id: string): boolean;
}

export function upstreamSiteView(site: Pick<SiteConfig, 'devices' | 'gateways'>): UpstreamSiteView {
  const servedBy = gatewayOfBuilding(site);
  const gateways = new Set(site.gateways.map((g) => g.id));
  const devices = new Map(
    site.devices.map((d) => {
      // Tanks and meters send no events (docs/devices.md).
      const events = DEVICE_EVENTS[d.kind] ?? [];
      return [d.id, { kind: d.kind, metrics: new Set(reportableMetrics(d)), events }] as const;
    }),
  );
  return {
    gatewayOf: (building) => servedBy.get(building),
    device: (id) => devices.get(id),
    knowsGateway: (id) => gateways.has(id),
  };
}
