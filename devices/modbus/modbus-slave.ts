import { createServer } from 'node:net';
import { ServerSerial, ServerTCP, type IServiceVector } from 'modbus-serial';
import type { FunctionCode } from '../../common/profiles.ts';
import type { RegisterBank } from './register-bank.ts';

/** Unit id → the device answering to it. */
export type BankMap = Map<number, RegisterBank>;

export interface TcpSlaveOptions {
  host?: string;
  port: number;
  banks: BankMap;
}

export interface RtuSlaveOptions {
  path: string;
  baudRate?: number;
  parity?: 'none' | 'even' | 'odd';
  banks: BankMap;
}

/** A running Modbus slave (TCP gateway or serial bus) serving several unit ids. */
export interface ModbusSlave {
  readonly banks: BankMap;
  /** Requests received since start or the last resetCounts(), unknown unit ids included. */
  readonly requestCount: number;
  /** Requests received by one unit id, all function codes or one. */
  requests(unitId: number, fc?: FunctionCode): number;
  /** Requests that arrived while an earlier one was still waiting for its answer. */
  readonly overlappingRequests: number;
  resetCounts(): void;
  /** Closes the listener (TCP: and every client socket; RTU: the serial port). */
  stop(): Promise<void>;
  /**
   * The converter dies: every client is dropped and, over TCP, each new connection is reset at
   * once, the port staying taken (so no other listener gets it) until restart().
   */
  powerOff(): Promise<void>;
  /** Powers off, waits `downMs`, and opens again on the same port or path: a device dropping off and coming back. */
  restart(downMs?: number): Promise<void>;
}

interface PendingRequest {
  unitId: number;
  fc: FunctionCode;
  address: number;
  answers: ((err: unknown, value?: unknown) => void)[];
}

type Closable = { close(cb: (err: Error | null) => void): void };

/**
 * Request accounting and routing shared by the TCP and RTU slaves. modbus-serial's servers call
 * the per-register vector functions once per register of a request, synchronously in one loop
 * (servers/servertcp_handler.js); the calls of one request are gathered in a microtask and
 * answered as one. A callback that is never called means no answer at all: a timeout for the
 * master, which is how a dead device and an unknown unit id behind a gateway look.
 */
class SlaveCore {
  requestCount = 0;
  overlappingRequests = 0;
  private inFlight = 0;
  private readonly perUnit = new Map<number, Record<FunctionCode, number>>();
  private pending: PendingRequest | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly banks: BankMap) {}

  vector(): IServiceVector {
    const entry = (fc: FunctionCode) =>
      (addr: number, unitId: number, cb: (err: unknown, value?: unknown) => void): void => this.collect(fc, addr, unitId, cb);
    return {
      getCoil: entry(1),
      getDiscreteInput: entry(2),
      getHoldingRegister: entry(3),
      getInputRegister: entry(4),
    } as IServiceVector;
  }

  requests(unitId: number, fc?: FunctionCode): number {
    const c = this.perUnit.get(unitId);
    if (!c) return 0;
    return fc !== undefined ? c[fc] : c[1] + c[2] + c[3] + c[4];
  }

  resetCounts(): void {
    this.requestCount = 0;
    this.overlappingRequests = 0;
    this.perUnit.clear();
    for (const bank of this.banks.values()) bank.resetCounts();
  }

  cancelAnswers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.inFlight = 0;
  }

  private collect(fc: FunctionCode, address: number, unitId: number, cb: (err: unknown, value?: unknown) => void): void {
    const p = this.pending;
    if (p && p.unitId === unitId && p.fc === fc && p.address + p.answers.length === address) {
      p.answers.push(cb);
      return;
    }
    if (p) this.flush();
    this.pending = { unitId, fc, address, answers: [cb] };
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    const req = this.pending;
    if (!req) return;
    this.pending = undefined;
    this.requestCount++;
    let counts = this.perUnit.get(req.unitId);
    if (!counts) {
      counts = { 1: 0, 2: 0, 3: 0, 4: 0 };
      this.perUnit.set(req.unitId, counts);
    }
    counts[req.fc]++;
    if (this.inFlight > 0) this.overlappingRequests++;

    const bank = this.banks.get(req.unitId);
    if (!bank) return;
    const answer = bank.respond(req.fc, req.address, req.answers.length);
    if (answer.kind === 'silent') return;
    const reply = () => {
      if (answer.kind === 'exception') {
        req.answers[0]?.({ modbusErrorCode: answer.code, message: `exception ${answer.code}` });
      } else {
        const bits = req.fc === 1 || req.fc === 2;
        answer.values.forEach((v, i) => req.answers[i]?.(null, bits ? v !== 0 : v));
      }
    };
    if (bank.responseDelayMs <= 0) {
      reply();
      return;
    }
    this.inFlight++;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.inFlight--;
      reply();
    }, bank.responseDelayMs);
    this.timers.add(t);
  }
}

function closeServer(server: Closable): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Holds a TCP port while its slave is powered off: every connection is reset at once. */
function holdPort(host: string, port: number): Promise<Closable> {
  return new Promise((resolve, reject) => {
    const holder = createServer((socket) => socket.resetAndDestroy());
    holder.once('error', reject);
    holder.listen(port, host, () => resolve({ close: (cb) => holder.close(() => cb(null)) }));
  });
}

function slaveFacade(core: SlaveCore, open: () => Promise<Closable>, first: Closable, hold?: () => Promise<Closable>): ModbusSlave {
  let server: Closable | undefined = first;
  let held: Closable | undefined;
  const stop = async (): Promise<void> => {
    core.cancelAnswers();
    const s = server;
    server = undefined;
    if (s) await closeServer(s);
    const h = held;
    held = undefined;
    if (h) await closeServer(h);
  };
  const powerOff = async (): Promise<void> => {
    if (!server) return;
    await stop();
    held = await hold?.();
  };
  return {
    banks: core.banks,
    get requestCount() {
      return core.requestCount;
    },
    get overlappingRequests() {
      return core.overlappingRequests;
    },
    requests: (unitId, fc) => core.requests(unitId, fc),
    resetCounts: () => core.resetCounts(),
    stop,
    powerOff,
    async restart(downMs = 0) {
      await powerOff();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await stop();
      server = await open();
    },
  };
}

/**
 * A Modbus TCP slave answering every unit id (modbus-serial unitID 255) and routing each request
 * to the bank of its unit id, like a Modbus gateway in front of a bus of meters.
 */
export async function startTcpSlave(options: TcpSlaveOptions): Promise<ModbusSlave> {
  const core = new SlaveCore(options.banks);
  const vector = core.vector();
  const open = () =>
    new Promise<Closable>((resolve, reject) => {
      const server = new ServerTCP(vector, { host: options.host ?? '127.0.0.1', port: options.port, unitID: 255 });
      // Client sockets reset by the gateway are expected; ServerTCP reports them as events.
      server.on('socketError', () => {});
      server.on('error', () => {});
      server.on('serverError', (err) => reject(err ?? new Error(`cannot listen on port ${options.port}`)));
      server.on('initialized', () => resolve(server));
    });
  return slaveFacade(core, open, await open(), () => holdPort(options.host ?? '127.0.0.1', options.port));
}

/** A Modbus RTU slave on a serial device (a real port or one end of a socat pty pair). */
export async function startRtuSlave(options: RtuSlaveOptions): Promise<ModbusSlave> {
  const core = new SlaveCore(options.banks);
  const vector = core.vector();
  const open = () =>
    new Promise<Closable>((resolve, reject) => {
      const server = new ServerSerial(vector, {
        path: options.path,
        baudRate: options.baudRate ?? 9600,
        parity: options.parity ?? 'none',
        unitID: 255,
        openCallback: (err: Error | null) => {
          if (err) reject(err);
        },
      });
      server.on('socketError', () => {});
      server.on('error', () => {});
      server.on('initialized', () => resolve(server));
    });
  return slaveFacade(core, open, await open());
}
