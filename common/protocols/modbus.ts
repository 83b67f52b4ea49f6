import { BUILTIN_PROFILES, point, type DeviceProfile, type FunctionCode, type RegisterPoint } from '../profiles.ts';
import { DEVICE_KINDS, type DeviceKind } from '../reading.ts';
import { idSchema, serialLine, serialLineSchema, tcpEndpointSchema, type SerialLine, type TcpEndpoint } from './links.ts';
import type { ProtocolDescriptor, SiteProblem } from './protocol.ts';

export interface ModbusConnectionConfig {
  id: string;
  tcp?: TcpEndpoint;
  rtu?: SerialLine;
  timeoutMs: number;
  /** Unmapped registers a merged read may span to save a request. 0: only strictly adjacent. */
  maxGapRegisters: number;
}

export interface ModbusDeviceConfig {
  connection: string;
  unitId: number;
  profile: DeviceProfile;
  timeoutMs: number;
}

export interface ModbusSections {
  modbus: { connections: ModbusConnectionConfig[] };
  /** Built-in and site file profiles by name. */
  profiles: Record<string, DeviceProfile>;
}

declare module '../site/types.ts' {
  interface ProtocolBlocks {
    modbus: ModbusDeviceConfig;
  }
  interface ProtocolSections extends ModbusSections {}
}

const registerPoint = {
  type: 'object',
  additionalProperties: false,
  required: ['metric', 'function', 'address', 'type'],
  properties: {
    metric: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
    function: { enum: [1, 2, 3, 4], description: '1 coils, 2 discrete inputs, 3 holding registers, 4 input registers' },
    address: { type: 'integer', minimum: 0, maximum: 65535 },
    type: { enum: ['bool', 'int16', 'uint16', 'int32', 'uint32', 'float32'] },
    byteOrder: { enum: ['big', 'little'] },
    wordOrder: { enum: ['high-first', 'low-first'] },
    scale: { type: 'number' },
    offset: { type: 'number' },
    engUnit: { type: 'string' },
  },
} as const;

interface RawPoint {
  metric: string;
  function: FunctionCode;
  address: number;
  type: RegisterPoint['type'];
  byteOrder?: RegisterPoint['byteOrder'];
  wordOrder?: RegisterPoint['wordOrder'];
  scale?: number;
  offset?: number;
  engUnit?: string;
}

interface RawConnection {
  id: string;
  tcp?: TcpEndpoint;
  rtu?: Partial<SerialLine> & { path: string };
  timeoutMs?: number;
  maxGapRegisters?: number;
}

interface RawDevice {
  connection: string;
  unitId: number;
  profile: string;
  timeoutMs?: number;
}

/** Modbus TCP and RTU devices, read by register maps (profiles): docs/site-file.md. */
export const modbusProtocol: ProtocolDescriptor<ModbusSections, ModbusDeviceConfig> = {
  name: 'modbus',
  title: 'Modbus',
  deviceSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['connection', 'unitId', 'profile'],
    properties: {
      connection: idSchema,
      unitId: { type: 'integer', minimum: 0, maximum: 255 },
      profile: { type: 'string' },
      timeoutMs: { type: 'integer', minimum: 10, maximum: 60000 },
    },
  },
  sectionSchemas: {
    modbus: {
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
              rtu: serialLineSchema,
              timeoutMs: { type: 'integer', minimum: 10, maximum: 60000 },
              maxGapRegisters: { type: 'integer', minimum: 0, maximum: 124 },
            },
            oneOf: [{ required: ['tcp'] }, { required: ['rtu'] }],
          },
        },
      },
    },
    profiles: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'points'],
        properties: {
          kind: { enum: DEVICE_KINDS },
          points: { type: 'array', minItems: 1, items: registerPoint },
        },
      },
    },
  },
  read(raw, problems) {
    const profiles = readProfiles((raw.profiles ?? {}) as Record<string, { kind: DeviceKind; points: RawPoint[] }>, problems);
    const rawConnections = ((raw.modbus ?? {}) as { connections?: RawConnection[] }).connections ?? [];
    const connections: ModbusConnectionConfig[] = rawConnections.map((c) => ({
      id: c.id,
      ...(c.tcp ? { tcp: c.tcp } : {}),
      ...(c.rtu ? { rtu: serialLine(c.rtu, { baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 }) } : {}),
      timeoutMs: c.timeoutMs ?? 1000,
      maxGapRegisters: c.maxGapRegisters ?? 16,
    }));
    const slaves = new Map<string, string>();
    return {
      sections: { modbus: { connections }, profiles },
      connections: connections.map((c, i) => ({ id: c.id, path: `/modbus/connections/${i}/id` })),
      device(block, device, at, problems) {
        const m = block as RawDevice;
        const conn = connections.find((c) => c.id === m.connection);
        const profile = profiles[m.profile];
        if (!conn) problems.push({ path: `${at}/connection`, reason: `no Modbus connection '${m.connection}' under /modbus/connections` });
        if (!profile) {
          problems.push({ path: `${at}/profile`, reason: `unknown profile '${m.profile}' (known: ${Object.keys(profiles).join(', ')})` });
        } else if (profile.kind !== device.kind) {
          problems.push({ path: `${at}/profile`, reason: `profile '${profile.name}' is for kind '${profile.kind}', device is '${device.kind}'` });
        }
        const slaveKey = `${m.connection}#${m.unitId}`;
        const other = slaves.get(slaveKey);
        if (other) problems.push({ path: `${at}/unitId`, reason: `unit id ${m.unitId} on '${m.connection}' is already used by device '${other}'` });
        slaves.set(slaveKey, device.id);
        if (!conn || !profile) return undefined;
        return {
          block: { connection: conn.id, unitId: m.unitId, profile, timeoutMs: m.timeoutMs ?? conn.timeoutMs },
          address: `${conn.id} unit ${m.unitId}`,
          metrics: profile.points.map((p) => p.metric),
          profile: profile.name,
          connection: conn.id,
        };
      },
    };
  },
};

function readProfiles(raw: Record<string, { kind: DeviceKind; points: RawPoint[] }>, problems: SiteProblem[]): Record<string, DeviceProfile> {
  const profiles: Record<string, DeviceProfile> = { ...BUILTIN_PROFILES };
  for (const [name, p] of Object.entries(raw)) {
    if (BUILTIN_PROFILES[name]) problems.push({ path: `/profiles/${name}`, reason: `'${name}' is a built-in profile; choose another name` });
    const metrics = new Set<string>();
    p.points.forEach((rp, i) => {
      if (metrics.has(rp.metric)) problems.push({ path: `/profiles/${name}/points/${i}/metric`, reason: `duplicate metric '${rp.metric}'` });
      metrics.add(rp.metric);
      if ((rp.function === 1 || rp.function === 2) !== (rp.type === 'bool')) {
        problems.push({ path: `/profiles/${name}/points/${i}/type`, reason: `function ${rp.function} ${rp.function <= 2 ? 'reads bits: type must be bool' : 'reads registers: type cannot be bool'}` });
      }
    });
    profiles[name] = {
      name,
      kind: p.kind,
      points: p.points.map((rp) => {
        const { function: fc, ...rest } = rp;
        return point({ ...rest, fc });
      }),
    };
  }
  return profiles;
}
