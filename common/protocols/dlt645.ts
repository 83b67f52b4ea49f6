import { DATA_ITEMS, DEFAULT_DATA_ITEMS, dataItem, type DataItem } from '../dlt645/data-items.ts';
import { idSchema, serialLine, serialLineSchema, tcpEndpointSchema, type SerialLine, type TcpEndpoint } from './links.ts';
import type { ProtocolDescriptor } from './protocol.ts';

/** One RS-485 line of meters: a serial port, or a transparent TCP serial converter in front of the line. */
export interface Dlt645ConnectionConfig {
  id: string;
  tcp?: TcpEndpoint;
  serial?: SerialLine;
  timeoutMs: number;
  /** Send FE FE FE FE before each request to wake the meters' receivers. */
  wakeUp: boolean;
}

export interface Dlt645DeviceConfig {
  connection: string;
  /** The meter's address, 12 digits (表号/通信地址). */
  address: string;
  /** What is read every poll cycle, in this order. */
  dataItems: DataItem[];
  timeoutMs: number;
}

export interface Dlt645Sections {
  dlt645: { connections: Dlt645ConnectionConfig[] };
}

declare module '../site/types.ts' {
  interface ProtocolBlocks {
    dlt645: Dlt645DeviceConfig;
  }
  interface ProtocolSections extends Dlt645Sections {}
}

/** DL/T 645-2007 clause 4.1: 2400 baud is the usual rate of meters on RS-485, with even parity. */
const SERIAL_DEFAULTS = { baudRate: 2400, parity: 'even', dataBits: 8, stopBits: 1 } as const;

interface RawConnection {
  id: string;
  tcp?: TcpEndpoint;
  serial?: Partial<SerialLine> & { path: string };
  timeoutMs?: number;
  wakeUp?: boolean;
}

interface RawDevice {
  connection: string;
  address: string | number;
  dataItems?: string[];
  timeoutMs?: number;
}

const KNOWN_ITEMS = DATA_ITEMS.map((d) => d.id).join(', ');

/** Electricity meters speaking DL/T 645-2007 on RS-485 (多功能电能表通信协议): docs/site-file.md. */
export const dlt645Protocol: ProtocolDescriptor<Dlt645Sections, Dlt645DeviceConfig> = {
  name: 'dlt645',
  title: 'DL/T 645-2007',
  deviceSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['connection', 'address'],
    properties: {
      connection: idSchema,
      address: {
        description: "the meter's 12-digit address; quote it to keep leading zeros visible",
        type: ['string', 'integer'],
        pattern: '^[0-9]{1,12}$',
        minimum: 0,
        maximum: 999999999999,
      },
      dataItems: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', pattern: '^[0-9A-Fa-f]{8}$', description: 'data identifier DI3 DI2 DI1 DI0, quoted, e.g. "00010000"' },
      },
      timeoutMs: { type: 'integer', minimum: 10, maximum: 60000 },
    },
  },
  sectionSchemas: {
    dlt645: {
      type: 'object',
      additionalProperties: false,
      properties: {
        connections: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id'],
            properties: {
              id: idSchema,
              tcp: tcpEndpointSchema,
              serial: serialLineSchema,
              timeoutMs: { type: 'integer', minimum: 10, maximum: 60000 },
              wakeUp: { type: 'boolean' },
            },
            oneOf: [{ required: ['tcp'] }, { required: ['serial'] }],
          },
        },
      },
    },
  },
  read(raw) {
    const rawConnections = ((raw.dlt645 ?? {}) as { connections?: RawConnection[] }).connections ?? [];
    const connections: Dlt645ConnectionConfig[] = rawConnections.map((c) => ({
      id: c.id,
      ...(c.tcp ? { tcp: c.tcp } : {}),
      ...(c.serial ? { serial: serialLine(c.serial, SERIAL_DEFAULTS) } : {}),
      timeoutMs: c.timeoutMs ?? 1000,
      wakeUp: c.wakeUp ?? true,
    }));
    const meters = new Map<string, string>();
    return {
      sections: { dlt645: { connections } },
      connections: connections.map((c, i) => ({ id: c.id, path: `/dlt645/connections/${i}/id` })),
      device(block, device, at, problems) {
        const d = block as RawDevice;
        let usable = true;
        if (device.kind !== 'meter-electric') {
          problems.push({ path: at, reason: `DL/T 645 reads electricity meters: the device's kind must be meter-electric, not '${device.kind}'` });
          usable = false;
        }
        const conn = connections.find((c) => c.id === d.connection);
        if (!conn) {
          problems.push({ path: `${at}/connection`, reason: `no DL/T 645 connection '${d.connection}' under /dlt645/connections` });
          usable = false;
        }
        const address = String(d.address).padStart(12, '0');
        const key = `${d.connection}#${address}`;
        const other = meters.get(key);
        if (other) problems.push({ path: `${at}/address`, reason: `meter address ${address} on '${d.connection}' is already used by device '${other}'` });
        meters.set(key, device.id);

        const items: DataItem[] = [];
        const byMetric = new Map<string, string>();
        (d.dataItems ?? DEFAULT_DATA_ITEMS).forEach((id, i) => {
          const item = dataItem(id);
          if (!item) {
            problems.push({ path: `${at}/dataItems/${i}`, reason: `unknown data item '${id}' (known: ${KNOWN_ITEMS})` });
            usable = false;
            return;
          }
          const same = byMetric.get(item.metric);
          if (same) {
            problems.push({ path: `${at}/dataItems/${i}`, reason: `data items ${same} and ${item.id} both give ${item.metric}; read one of them` });
            usable = false;
          }
          byMetric.set(item.metric, item.id);
          items.push(item);
        });
        if (!usable || !conn) return undefined;
        return {
          block: { connection: conn.id, address, dataItems: items, timeoutMs: d.timeoutMs ?? conn.timeoutMs },
          address: `${conn.id} meter ${address}`,
          metrics: items.map((i) => i.metric),
          connection: conn.id,
        };
      },
    };
  },
};
