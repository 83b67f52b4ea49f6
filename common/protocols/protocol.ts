import type { DeviceKind } from '../reading.ts';

/** One thing wrong with a site file: where (a JSON pointer into the file) and why. */
export interface SiteProblem {
  path: string;
  reason: string;
}

/** A JSON Schema fragment (draft-07). */
export type JsonSchema = Record<string, unknown>;

/** The parts of a device every protocol sees, whatever its block holds. */
export interface DeviceIdentity {
  id: string;
  building: string;
  kind: DeviceKind;
}

/** A device's protocol block, normalised, with the protocol-neutral view of the device. */
export interface ProtocolDevice<Block> {
  block: Block;
  /** Where the device is reached, for people: `T1-modbus unit 11`, `OB-dlt645 meter 000000000101`. */
  address: string;
  /** Metrics the device can report; undefined when the protocol lets a device send any metric. */
  metrics?: string[];
  /** The register map (profile) the device is read with, when the protocol has such maps. */
  profile?: string;
  /** The id of the connection (of the protocol's section) the device sits on, if it sits on one. */
  connection?: string;
}

/** What a protocol reads from one site file: its top-level sections, then its devices. */
export interface ProtocolReader<Sections, Block> {
  /** The normalised top-level sections, merged into the SiteConfig (`site.modbus`, `site.profiles`). */
  sections: Sections;
  /** Connection ids the sections declare, each with its path: connection ids are unique across the estate. */
  connections: { id: string; path: string }[];
  /**
   * Normalises one device's block (`raw`, already valid against `deviceSchema`). Problems are pushed
   * with paths under `at`, the pointer of the block; undefined when the block cannot be used.
   */
  device(raw: unknown, device: DeviceIdentity, at: string, problems: SiteProblem[]): ProtocolDevice<Block> | undefined;
}

/**
 * Everything the site file says about one field protocol, defined once in `common/protocols/` so
 * that the loader, the gateway, the simulators and the server all see the same thing
 * (docs/extending.md). `name` is both the key of a device's protocol block and the protocol's
 * name in `DeviceConfig.protocol`.
 */
export interface ProtocolDescriptor<Sections = unknown, Block = unknown> {
  readonly name: string;
  /** For people: `Modbus`, `MQTT`, `DL/T 645-2007`. */
  readonly title: string;
  /** JSON Schema of a device's protocol block. */
  readonly deviceSchema: JsonSchema;
  /** JSON Schemas of the top-level sections the protocol owns, by key (`modbus`, `profiles`). */
  readonly sectionSchemas: Record<string, JsonSchema>;
  /** Reads the protocol's sections of a schema-valid site file (`raw`), pushing what is wrong with them. */
  read(raw: Record<string, unknown>, problems: SiteProblem[]): ProtocolReader<Sections, Block>;
}
