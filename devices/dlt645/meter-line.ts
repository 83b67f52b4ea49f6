import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { FROM_METER, FrameReader, encodeFrame, type Frame } from '../../common/dlt645/frame.ts';
import type { Parity } from '../../common/protocols/links.ts';
import type { SimulatedMeter } from './simulated-meter.ts';

/** Meter address → the meter answering to it. */
export type MeterMap = Map<string, SimulatedMeter>;

export interface MeterLineTcpOptions {
  host?: string;
  port: number;
  meters: MeterMap;
}

export interface MeterLineSerialOptions {
  path: string;
  baudRate?: number;
  parity?: Parity;
  meters: MeterMap;
}

/** A running line of simulated DL/T 645 meters: an RS-485 line behind a TCP serial converter, or a serial port. */
export interface MeterLine {
  readonly meters: MeterMap;
  /** Read requests seen on the line since start or resetCounts(), for unknown addresses too. */
  readonly requestCount: number;
  /** Requests that arrived while an earlier answer was still pending: a master that does not wait its turn. */
  readonly overlappingRequests: number;
  resetCounts(): void;
  stop(): Promise<void>;
  /** Stops, waits `downMs`, and opens again on the same port or path: the converter dropping off and coming back. */
  restart(downMs?: number): Promise<void>;
}

/** Wake-up bytes before each answer, as many meters send them; the gateway must skip them. */
const ANSWER_WAKE_UP = 2;

/** Answers the requests arriving on one byte stream, as the meters on a half-duplex line would. */
class LineCore {
  requestCount = 0;
  overlappingRequests = 0;
  private inFlight = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly meters: MeterMap) {}

  attach(stream: Duplex): void {
    const reader = new FrameReader();
    stream.on('data', (chunk: Buffer) => {
      for (const event of reader.push(chunk)) {
        // A garbled request or a meter's frame: no meter answers.
        if (event.kind !== 'frame' || (event.frame.control & FROM_METER) !== 0) continue;
        this.request(stream, event.frame);
      }
    });
  }

  resetCounts(): void {
    this.requestCount = 0;
    this.overlappingRequests = 0;
    for (const m of this.meters.values()) m.resetCounts();
  }

  cancelAnswers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.inFlight = 0;
  }

  private request(stream: Duplex, frame: Frame): void {
    this.requestCount++;
    if (this.inFlight > 0) this.overlappingRequests++;
    const meter = this.meters.get(frame.address);
    if (!meter) return;
    const answer = meter.answer(frame);
    if (!answer || meter.fault === 'silent') return;
    const bytes = wire(answer, meter);
    if (meter.responseDelayMs <= 0) {
      if (!stream.destroyed) stream.write(bytes);
      return;
    }
    this.inFlight++;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.inFlight--;
      if (!stream.destroyed) stream.write(bytes);
    }, meter.responseDelayMs);
    this.timers.add(t);
  }
}

/** The answer's bytes, spoiled the way the meter's fault says. */
function wire(answer: Frame, meter: SimulatedMeter): Uint8Array {
  if (meter.fault === 'wrong-address') {
    const other = answer.address === '999999999999' ? '999999999998' : '999999999999';
    return encodeFrame({ ...answer, address: other }, ANSWER_WAKE_UP);
  }
  const bytes = encodeFrame(answer, ANSWER_WAKE_UP);
  if (meter.fault === 'bad-checksum') bytes[bytes.length - 2] = (bytes[bytes.length - 2]! + 1) & 0xff;
  return bytes;
}

function facade(core: LineCore, open: () => Promise<() => Promise<void>>, firstClose: () => Promise<void>): MeterLine {
  let close: (() => Promise<void>) | undefined = firstClose;
  const stop = async (): Promise<void> => {
    core.cancelAnswers();
    const c = close;
    close = undefined;
    if (c) await c();
  };
  return {
    meters: core.meters,
    get requestCount() {
      return core.requestCount;
    },
    get overlappingRequests() {
      return core.overlappingRequests;
    },
    resetCounts: () => core.resetCounts(),
    stop,
    async restart(downMs = 0) {
      await stop();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      close = await open();
    },
  };
}

/** Meters behind a transparent TCP serial converter: every byte of a client goes to the line, every answer back to it. */
export async function startMeterLineTcp(options: MeterLineTcpOptions): Promise<MeterLine> {
  const core = new LineCore(options.meters);
  const open = () =>
    new Promise<() => Promise<void>>((resolve, reject) => {
      const sockets = new Set<Socket>();
      const server: Server = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => sockets.delete(socket));
        core.attach(socket);
      });
      server.once('error', reject);
      server.listen(options.port, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve(
          () =>
            new Promise<void>((done) => {
              for (const s of sockets) s.destroy();
              server.close(() => done());
            }),
        );
      });
    });
  return facade(core, open, await open());
}

/** Meters on a serial line (a real port, or one end of a socat pty pair). */
export async function startMeterLineSerial(options: MeterLineSerialOptions): Promise<MeterLine> {
  const core = new LineCore(options.meters);
  const open = () =>
    new Promise<() => Promise<void>>((resolve, reject) => {
      const port = new SerialPort({ path: options.path, baudRate: options.baudRate ?? 2400, parity: options.parity ?? 'even', dataBits: 8, stopBits: 1, autoOpen: false });
      port.on('error', () => {});
      port.open((err) => {
        if (err) {
          reject(err);
          return;
        }
        core.attach(port);
        resolve(() => new Promise<void>((done) => (port.isOpen ? port.close(() => done()) : done())));
      });
    });
  return facade(core, open, await open());
}
