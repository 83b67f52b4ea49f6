import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { DEMO_SITE_FILE } from '../../common/site/load.ts';
import { freePort } from './ports.ts';

/**
 * The demo estate's site file, parsed, with every TCP connection of every protocol section
 * (`modbus`, `dlt645`, …) moved to a free loopback port; `ports` by connection id.
 */
export async function demoSiteOnFreePorts(): Promise<{ raw: Record<string, any>; ports: Record<string, number> }> {
  const raw = parse(await readFile(DEMO_SITE_FILE, 'utf8')) as Record<string, any>;
  const ports: Record<string, number> = {};
  for (const section of Object.values(raw)) {
    const connections = (section as { connections?: { id: string; tcp?: { port: number } }[] } | null)?.connections;
    if (!Array.isArray(connections)) continue;
    for (const c of connections) {
      if (!c.tcp) continue;
      c.tcp.port = await freePort();
      ports[c.id] = c.tcp.port;
    }
  }
  return { raw, ports };
}
