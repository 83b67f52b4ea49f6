import { EventEmitter } from 'node:events';
import type { SiteConfig } from '../../common/site/types.ts';

export interface CustodyUnit {
  unit: string;
  building: string;
  /** When custody began (UTC epoch ms). */
  since: number;
}

/**
 * The units in the company's custody right now: the weekly custody patrol and the heavy-rain
 * patrol cover them, custody limits watch them. `change` fires when a unit enters or leaves custody.
 */
export interface CustodyRoster {
  inCustody(): Promise<CustodyUnit[]>;
  on(event: 'change', listener: (unit: string) => void): this;
  off(event: 'change', listener: (unit: string) => void): this;
}

/** The units the site file marks `custody: true`, in custody since the server started. */
export class SiteCustodyRoster extends EventEmitter implements CustodyRoster {
  private readonly units: CustodyUnit[];

  constructor(site: SiteConfig, since: number) {
    super();
    this.units = site.buildings.flatMap((b) => b.units.filter((u) => u.custody).map((u) => ({ unit: u.id, building: b.id, since })));
  }

  async inCustody(): Promise<CustodyUnit[]> {
    return [...this.units];
  }
}
