// Simulated Modbus TCP devices for the `modbus` scenario: one TCP endpoint per device, plus one
// endpoint serving several unit ids (a serial bus behind a Modbus TCP gateway).
import { BUILTIN_PROFILES } from '../../common/profiles.ts';
import { RegisterBank, type BankFault } from '../../devices/modbus/register-bank.ts';
import { startTcpSlave, type ModbusSlave } from '../../devices/modbus/modbus-slave.ts';
import { freePort } from '../../test/harness/ports.ts';
import { serveParent } from '../child-process.ts';

export const DEVICE_PROFILES = ['meter-electric', 'tank-level', 'meter-water'] as const;

const devices: ModbusSlave[] = [];
const ports: number[] = [];
let bus: ModbusSlave | undefined;
let busPort = 0;

function bank(i: number): RegisterBank {
  const profile = BUILTIN_PROFILES[DEVICE_PROFILES[i % DEVICE_PROFILES.length]!]!;
  const b = new RegisterBank(profile);
  for (const p of profile.points) b.set(p.metric, p.fc <= 2 ? i % 2 : 100 + i);
  return b;
}

serveParent({
  async start(msg) {
    const count = Number(msg.devices);
    const busUnits = Number(msg.busUnits);
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      devices.push(await startTcpSlave({ port, banks: new Map([[1, bank(i)]]) }));
      ports.push(port);
    }
    busPort = await freePort();
    bus = await startTcpSlave({ port: busPort, banks: new Map(Array.from({ length: busUnits }, (_, u) => [u + 1, bank(u)] as const)) });
    return { ports, busPort };
  },
  counts() {
    return { devices: devices.map((d) => d.requestCount), bus: bus?.requestCount ?? 0 };
  },
  reset() {
    for (const d of devices) d.resetCounts();
    bus?.resetCounts();
    return {};
  },
  fault(msg) {
    const fault = msg.fault as BankFault;
    for (const i of msg.devices as number[]) devices[i]!.banks.get(1)!.fault = fault;
    for (const u of msg.busUnits as number[]) bus!.banks.get(u)!.fault = fault;
    return {};
  },
  async stop() {
    await Promise.all([...devices, ...(bus ? [bus] : [])].map((s) => s.stop()));
    return {};
  },
});
process.send?.({ type: 'ready' });
