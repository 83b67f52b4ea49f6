import type { SiteConfig } from './types.ts';

/** Building id → the id of the gateway that serves it (docs/site-file.md#gateways). */
export function gatewayOfBuilding(site: Pick<SiteConfig, 'gateways'>): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const g of site.gateways) for (const b of g.buildings) out.set(b, g.id);
  return out;
}

/**
 * The site as the gateway that runs with it sees it: the buildings it serves and their devices.
 * The server keeps the whole estate; each gateway reads only its own buildings.
 */
export function siteOfItsGateway(site: SiteConfig): SiteConfig {
  const served = new Set(site.gateway.buildings);
  if (served.size === site.buildings.length) return site;
  const buildings = site.buildings.filter((b) => served.has(b.id));
  return { ...site, buildings, devices: buildings.flatMap((b) => b.devices) };
}
