import { startTcpProxy, type ProxyDirection, type TcpProxy } from './tcp-proxy.ts';

export interface MqttTap extends TcpProxy {
  /**
   * Topics of the QoS 1 messages the client acknowledged through the tap, in the order of its
   * PUBACKs (across connections). A PUBACK is matched to the PUBLISH with its message id that
   * came before it on the same connection.
   */
  acked(): string[];
}

/**
 * A TCP proxy between an MQTT client and its broker (MQTT 3.1.1) that reads the packets passing:
 * it sees what the client acknowledged, whatever the broker (aedes or Mosquitto).
 */
export async function startMqttTap(brokerUrl: string): Promise<MqttTap> {
  const acked: string[] = [];
  const streams = new Map<string, PacketStream>();
  /** Per connection: message id -> topic of the last PUBLISH the broker sent with it. */
  const inFlight = new Map<number, Map<number, string>>();
  const proxy = await startTcpProxy(brokerUrl, (connection: number, direction: ProxyDirection, chunk: Buffer) => {
    const key = `${connection}:${direction}`;
    let stream = streams.get(key);
    if (!stream) streams.set(key, (stream = new PacketStream()));
    let ids = inFlight.get(connection);
    if (!ids) inFlight.set(connection, (ids = new Map()));
    for (const { type, flags, body } of stream.push(chunk)) {
      if (direction === 'to-client' && type === PUBLISH && (flags & 0x06) !== 0) {
        const topicLength = body.readUInt16BE(0);
        ids.set(body.readUInt16BE(2 + topicLength), body.toString('utf8', 2, 2 + topicLength));
      } else if (direction === 'to-target' && type === PUBACK) {
        acked.push(ids.get(body.readUInt16BE(0)) ?? `(unknown message id ${body.readUInt16BE(0)})`);
      }
    }
  });
  return { ...proxy, acked: () => [...acked] };
}

const PUBLISH = 3;
const PUBACK = 4;

/** Splits a byte stream into MQTT control packets (MQTT 3.1.1 section 2.2: fixed header, remaining length). */
class PacketStream {
  private pending = Buffer.alloc(0);

  push(chunk: Buffer): { type: number; flags: number; body: Buffer }[] {
    this.pending = Buffer.concat([this.pending, chunk]);
    const packets: { type: number; flags: number; body: Buffer }[] = [];
    for (;;) {
      let length = 0;
      let i = 1;
      for (let multiplier = 1; ; multiplier *= 128, i++) {
        if (i > 4) throw new Error('MQTT remaining length longer than 4 bytes: not an MQTT stream');
        if (i >= this.pending.length) return packets;
        const byte = this.pending[i] as number;
        length += (byte & 0x7f) * multiplier;
        if ((byte & 0x80) === 0) break;
      }
      const end = i + 1 + length;
      if (this.pending.length < end) return packets;
      const first = this.pending[0] as number;
      packets.push({ type: first >> 4, flags: first & 0x0f, body: this.pending.subarray(i + 1, end) });
      this.pending = this.pending.subarray(end);
    }
  }
}
