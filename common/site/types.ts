import type { DeviceKind } from '../reading.ts';
import type { ReportingConfig } from './reporting.ts';

export type WhenOutboxFull = 'drop-oldest' | 'reject-new';

/**
 * A device's protocol block by protocol name, normalised. Each protocol of `common/protocols/`
 * adds its own (`modbus`, `mqtt`, `dlt645`) by declaration merging, next to its descriptor.
 */
export interface ProtocolBlocks {}

/** The normalised top-level sections of the site file that protocols own (`modbus`, `profiles`, `dlt645`), added the same way. */
export interface ProtocolSections {}

/** The name of a registered protocol: `modbus`, `mqtt`, `dlt645`. */
export type ProtocolName = keyof ProtocolBlocks & string;

/**
 * A device of the site file. Outside its protocol's own code, read it through the protocol-neutral
 * view (`protocol`, `address`, `metrics`); the protocol block (`device.modbus`, …) is for the
 * protocol's connector and simulator.
 */
export interface DeviceConfig extends Partial<ProtocolBlocks> {
  id: string;
  building: string;
  kind: DeviceKind;
  name: string;
  unit?: string;
  params: Record<string, number>;
  /** The protocol the gateway reads the device with. */
  protocol: ProtocolName;
  /** Where the device is reached, for people: `T1-modbus unit 11`, `OB-dlt645 meter 000000000101`, an MQTT topic. */
  address: string;
  /** Metrics the device can report (from its profile, data items or mapping); undefined when it may send any. */
  metrics?: readonly string[];
  /** The Modbus profile (register map) it is read with. */
  profile?: string;
  /**
   * The connection the gateway reaches the device through (a Modbus TCP converter or serial bus, a
   * DL/T 645 line): the device depends on it. Undefined for devices that reach the gateway by
   * themselves (MQTT).
   */
  connection?: string;
}

export interface UnitConfig {
  id: string;
  building: string;
  floor?: number;
  area_m2?: number;
  /** Vacant and in the company's custody when the estate starts (docs/domain.md rule 2). */
  custody?: boolean;
}

export interface BuildingConfig {
  id: string;
  name: string;
  type: 'residential' | 'office' | 'commercial';
  units: UnitConfig[];
  devices: DeviceConfig[];
}

export interface StoreConfig {
  batchSize: number;
  flushIntervalMs: number;
  /** Raw readings and events: `30d`, `12h`, `INF`. */
  retention: string;
  /** 1-minute and 1-hour rollups. */
  rollups: { '1m': string; '1h': string };
  /** Disk budget of the reading store (docs/gateway.md#disk-budget). */
  maxBytes: number;
}

export interface GatewayConfig {
  id: string;
  /** The buildings this gateway serves: it reads their devices and may publish only their topics. */
  buildings: string[];
  pollIntervalMs: number;
  outbox: { maxBytes: number; whenFull: WhenOutboxFull };
  store: StoreConfig;
}

/** A gateway's login (its id) and the buildings it may publish for. */
export interface GatewayServing {
  id: string;
  buildings: string[];
}

/** The validated, defaulted site file. */
export interface SiteConfig extends ProtocolSections {
  /** Where it was read from, for messages. */
  file: string;
  site: { id: string; name: string; timezone: string; demo: boolean };
  /** The gateway that runs with this file. */
  gateway: GatewayConfig;
  /** Every gateway that feeds the server, this file's first, each with the buildings it serves. */
  gateways: GatewayServing[];
  buildings: BuildingConfig[];
  /** Every device of every building. */
  devices: DeviceConfig[];
  /** Which readings the gateway keeps in the reading store. */
  reporting: ReportingConfig;
  rules: Record<string, unknown>;
  inspections: unknown[];
  /** Work-order settings; the server checks them (server/work-orders/work-order-settings.ts). */
  workOrders: Record<string, unknown>;
}
