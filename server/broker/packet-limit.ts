import { Duplex } from 'node:stream';

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
 * The socket as aedes sees it, with a packet size limit: aedes has none of its own, and would
 * buffer a packet of any announced size. A packet over the limit ends the connection as soon as
 * its header arrives, before its body is read.
 */
export class PacketLimitedConnection extends Duplex {
  private readonly framing: MqttFraming;

  constructor(
    private readonly socket: Duplex,
    maxPacketBytes: number,
    onOversize: (reason: string) => void,
  ) {
    super({ allowHalfOpen: false });
    this.framing = new MqttFraming(maxPacketBytes);
    socket.on('data', (chunk: Buffer) => {
      const problem = this.framing.push(chunk);
      if (problem !== undefined) {
        onOversize(problem);
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.once('end', () => this.push(null));
    socket.once('error', (err) => this.destroy(err));
    socket.once('close', () => this.destroy());
  }

  /** For hooks that look at the peer, as on a socket. */
  get remoteAddress(): string | undefined {
    return (this.socket as { remoteAddress?: string }).remoteAddress;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.socket.write(chunk, encoding, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.socket.destroy();
    callback(err);
  }
}
