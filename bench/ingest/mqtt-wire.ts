/**
 * The few MQTT 3.1.1 packets a load generator needs, encoded by hand: a publisher that builds
 * each PUBLISH into one buffer spends its CPU on the load, not on a general-purpose client.
 */

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

export function connectPacket(clientId: string, keepaliveS = 60): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  // Protocol name "MQTT", level 4, flags: clean session.
  const body = Buffer.concat([Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, keepaliveS >> 8, keepaliveS & 0xff, id.length >> 8, id.length & 0xff]), id]);
  return Buffer.concat([Buffer.from([0x10, ...remainingLength(body.length)]), body]);
}

/** PUBLISH, QoS 1, not retained. */
export function publishQos1(topic: Buffer, messageId: number, payload: Buffer): Buffer {
  const len = 2 + topic.length + 2 + payload.length;
  const rl = remainingLength(len);
  const buf = Buffer.allocUnsafe(1 + rl.length + len);
  let o = 0;
  buf[o++] = 0x32;
  for (const b of rl) buf[o++] = b;
  buf.writeUInt16BE(topic.length, o);
  o += 2;
  o += topic.copy(buf, o);
  buf.writeUInt16BE(messageId, o);
  o += 2;
  payload.copy(buf, o);
  return buf;
}

export const DISCONNECT = Buffer.from([0xe0, 0x00]);

export interface WirePacket {
  type: number;
  body: Buffer;
}

/** Splits a byte stream into packets (fixed header type nibble and body). */
export class PacketReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onPacket: (p: WirePacket) => void): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let o = 0;
    for (;;) {
      if (this.pending.length - o < 2) break;
      let len = 0;
      let mul = 1;
      let i = o + 1;
      let complete = false;
      while (i < this.pending.length && i < o + 5) {
        const b = this.pending[i++]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || this.pending.length - i < len) break;
      onPacket({ type: this.pending[o]! >> 4, body: this.pending.subarray(i, i + len) });
      o = i + len;
    }
    this.pending = this.pending.subarray(o);
  }
}
