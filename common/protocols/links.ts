/** The two ways the gateway reaches a field bus: a TCP socket, or a serial port. */
export interface TcpEndpoint {
  host: string;
  port: number;
}

export type Parity = 'none' | 'even' | 'odd';

export interface SerialLine {
  path: string;
  baudRate: number;
  parity: Parity;
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

export const tcpEndpointSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port'],
  properties: { host: { type: 'string' }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
} as const;

export const serialLineSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string' },
    baudRate: { type: 'integer', minimum: 300 },
    parity: { enum: ['none', 'even', 'odd'] },
    dataBits: { enum: [7, 8] },
    stopBits: { enum: [1, 2] },
  },
} as const;

/** Ids of the site file (site, buildings, units, devices, connections). */
export const idSchema = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 64 } as const;

/** A serial line with the protocol's defaults for what the site file leaves out. */
export function serialLine(raw: Partial<SerialLine> & { path: string }, defaults: Omit<SerialLine, 'path'>): SerialLine {
  return { ...defaults, ...raw };
}
