import type { Duplex } from 'node:stream';

/**
 * Follows the MQTT framing of a byte stream without buffering it: each packet is a fixed header
 * byte, its Remaining Length (1 to 4 bytes of 7 bits, least significant first: MQTT 3.1.1 §2.2.3),
 * then that many bytes. `push` says whether the bytes so far stay within `maxPacketBytes`.
 */
export class MqttFraming {
  private state: 'header' | 'length' | 'body' = 'header';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Undefined while every packet fits; otherwise why the stream must stop. */
  push(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 'header';
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 'header') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return 'malformed remaining length';
        continue;
      }
      const packetBytes = 1 + this.lengthBytes + this.length;
      if (packetBytes > this.maxPacketBytes) return `packet of ${packetBytes} bytes exceeds the limit of ${this.maxPacketBytes}`;
      this.remaining = this.length;
      this.state = this.length === 0 ? 'header' : 'body';
    }
    return undefined;
  }
}

/**
 * Puts a packet size limit on a connection before aedes gets it: aedes has none of its own and
 * would buffer a packet of any announced size. aedes pulls a connection's bytes with `read()`
 * (aedes 1.2.0 lib/client.js), so that is where each chunk is looked at, without another stream
 * in between (a Duplex wrapper cost a third more CPU per message). A packet over the limit ends
 * the connection as soon as its header arrives, before its body is read.
 * test/broker-limits.test.ts fails the day aedes reads a connection another way.
 */
export function limitPacketSize<T extends Duplex>(socket: T, maxPacketBytes: number, onOversize: (reason: string) => void): T {
  const framing = new MqttFraming(maxPacketBytes);
  const read = socket.read.bind(socket);
  socket.read = (size?: number): unknown => {
    const chunk: unknown = read(size);
    if (!(chunk instanceof Uint8Array)) return chunk;
    const problem = framing.push(chunk);
    if (problem === undefined) return chunk;
    onOversize(problem);
    socket.destroy();
    return null;
  };
  return socket;
}
