import type { ProtocolBlocks, ProtocolName } from '../site/types.ts';
import { dlt645Protocol } from './dlt645.ts';
import { modbusProtocol } from './modbus.ts';
import { mqttProtocol } from './mqtt.ts';
import type { ProtocolDescriptor } from './protocol.ts';

/**
 * Every field protocol the site file knows, by name: one explicit map, not a folder scan. The site
 * schema and loader are composed from it, and the gateway's connector map
 * (`gateway/connectors/index.ts`) has an entry for each name. How to add one: docs/extending.md.
 */
export const PROTOCOLS: { readonly [P in ProtocolName]: ProtocolDescriptor<unknown, ProtocolBlocks[P]> } = {
  modbus: modbusProtocol,
  mqtt: mqttProtocol,
  dlt645: dlt645Protocol,
};

export const PROTOCOL_NAMES = Object.keys(PROTOCOLS) as ProtocolName[];

/** `modbus, mqtt or dlt645`, for messages. */
export function protocolNamesText(): string {
  const names = PROTOCOL_NAMES;
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? '');
}
