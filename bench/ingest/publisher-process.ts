// A device fleet in one process: several MQTT connections publishing QoS 1 telemetry, each
// reading a distinct (device, metric, ts), with a window of unacknowledged messages per
// connection and a total the parent raises as the gateway keeps up (credit).
import { connect, type Socket } from 'node:net';
import { serveParent } from '../child-process.ts';
import { connectPacket, DISCONNECT, PacketReader, publishQos1 } from './mqtt-wire.ts';

export interface PublisherDevice {
  topic: string;
  metrics: string[];
}

export interface PublisherStart {
  cmd: 'start';
  port: number;
  devices: PublisherDevice[];
  connections: number;
  /** Unacknowledged PUBLISHes per connection. */
  window: number;
  durationMs: number;
  /** Timestamp of each device's first message; its k-th message has tsBase + k. */
  tsBase: number;
  /** Messages this process may have sent so far; raised with `credit` commands. */
  credit: number;
}

export interface PublisherResult {
  sent: number;
  acked: number;
  readingsSent: number;
  firstPublishAt: number;
  lastAckAt: number;
  /** Messages still unacknowledged when the drain wait ended. */
  unacked: number;
}

interface Conn {
  socket: Socket;
  devices: { topic: Buffer; metrics: string[]; k: number; index: number }[];
  next: number;
  inflight: number;
  messageId: number;
  ready: boolean;
}

let credit = 0;
let sent = 0;
let acked = 0;
let readingsSent = 0;
let firstPublishAt = 0;
let lastAckAt = 0;
let publishing = false;
const conns: Conn[] = [];
let window = 1000;
let tsBase = 0;
let drained: (() => void) | undefined;

function payload(d: Conn['devices'][number]): Buffer {
  const ts = tsBase + d.k;
  let s = `{"ts":${ts}`;
  for (let i = 0; i < d.metrics.length; i++) s += `,"${d.metrics[i]}":${((d.k * 7 + i * 13 + d.index) % 10000) / 10}`;
  return Buffer.from(`${s}}`);
}

function pump(c: Conn): void {
  if (!c.ready || !publishing) return;
  const out: Buffer[] = [];
  while (c.inflight < window && sent < credit) {
    const d = c.devices[c.next]!;
    c.next = (c.next + 1) % c.devices.length;
    c.messageId = c.messageId === 65535 ? 1 : c.messageId + 1;
    out.push(publishQos1(d.topic, c.messageId, payload(d)));
    d.k++;
    c.inflight++;
    sent++;
    readingsSent += d.metrics.length;
  }
  if (out.length === 0) return;
  if (firstPublishAt === 0) firstPublishAt = Date.now();
  c.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
}

function open(port: number, devices: Conn['devices'], n: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    const c: Conn = { socket, devices, next: 0, inflight: 0, messageId: 0, ready: false };
    const reader = new PacketReader();
    socket.once('error', reject);
    socket.on('data', (chunk) =>
      reader.push(chunk, (p) => {
        if (p.type === 2) {
          if (p.body[1] !== 0) reject(new Error(`CONNACK refused: ${p.body[1]}`));
          c.ready = true;
          resolve(c);
        } else if (p.type === 4) {
          c.inflight--;
          acked++;
          lastAckAt = Date.now();
          if (c.inflight === 0 && drained && conns.every((x) => x.inflight === 0)) drained();
        }
      }),
    );
    socket.on('drain', () => pump(c));
    socket.write(connectPacket(`bench-publisher-${process.pid}-${n}`));
  }).then((c) => {
    (c as Conn).socket.on('data', () => pump(c as Conn));
    return c as Conn;
  });
}

serveParent({
  async start(msg) {
    const m = msg as unknown as PublisherStart;
    window = m.window;
    tsBase = m.tsBase;
    credit = m.credit;
    const groups: Conn['devices'][] = Array.from({ length: m.connections }, () => []);
    m.devices.forEach((d, i) => groups[i % m.connections]!.push({ topic: Buffer.from(d.topic), metrics: d.metrics, k: 0, index: i }));
    conns.push(...(await Promise.all(groups.map((g, i) => open(m.port, g, i)))));
    publishing = true;
    for (const c of conns) pump(c);
    setTimeout(() => {
      publishing = false;
    }, m.durationMs);
    return { started: Date.now() };
  },
  credit(msg) {
    credit = Math.max(credit, Number(msg.credit));
    for (const c of conns) pump(c);
    return { sent, acked };
  },
  /** Waits (bounded) for the last PUBACKs, disconnects and reports. */
  async finish(msg) {
    publishing = false;
    if (conns.some((c) => c.inflight > 0)) {
      await new Promise<void>((resolve) => {
        drained = resolve;
        setTimeout(resolve, Number(msg.timeoutMs ?? 30_000));
      });
    }
    for (const c of conns) c.socket.end(DISCONNECT);
    const result: PublisherResult = { sent, acked, readingsSent, firstPublishAt, lastAckAt, unacked: sent - acked };
    return result;
  },
  stop() {
    for (const c of conns) c.socket.destroy();
    return {};
  },
});
