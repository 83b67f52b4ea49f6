import type { IPublishPacket, MqttClient } from 'mqtt';

/**
 * PUBACKs sent when the caller says so, not when a message arrives. mqtt.js acknowledges a QoS 1
 * message as soon as `handleMessage` calls back and has no public way to acknowledge later, so
 * this is the one module that relies on its internals (mqtt.js 5.16.0, pinned exactly in
 * package.json; test/mqtt-deferred-puback.test.ts fails when they change):
 *
 * - `handleMessage(packet, callback)` called back with an error: mqtt.js goes on to the next
 *   packet without sending the PUBACK (build/lib/handlers/publish.js);
 * - `client._sendPacket(packet)` writes a packet on the current connection.
 */

/** An acknowledgement owed to the broker. */
export interface DeferredPuback {
  messageId: number;
  /** The connection the message came on: a PUBACK on a later connection could acknowledge another message. */
  stream: unknown;
}

/** What happens to a message's acknowledgement once it is handled: sent by mqtt.js now, or by `sendPubacks` later (or never). */
export type AckWhen = 'now' | 'later';

const ACK_LATER = new Error('PUBACK deferred until the message is durable');

interface SendPacket {
  _sendPacket(packet: { cmd: 'puback'; messageId: number }): void;
}

/**
 * Hands every PUBLISH the client receives to `handle`. mqtt.js reads the next packet only once
 * `next` is called, so holding `next` back stops reading from the broker (backpressure).
 */
export function handlePublishes(client: MqttClient, handle: (packet: IPublishPacket, next: (ack: AckWhen) => void) => void): void {
  client.handleMessage = (packet, callback) => handle(packet, (ack) => callback(ack === 'later' ? ACK_LATER : undefined));
}

/** The acknowledgement a QoS 1 message needs; undefined for QoS 0. */
export function deferredPuback(client: MqttClient, packet: IPublishPacket): DeferredPuback | undefined {
  if (packet.qos === 0 || packet.messageId === undefined) return undefined;
  return { messageId: packet.messageId, stream: client.stream };
}

/**
 * Sends the PUBACKs of messages that came on the current connection, in one write. Returns how
 * many were not sent because their connection is gone (the broker delivers those messages again
 * when the session resumes).
 */
export function sendPubacks(client: MqttClient, acks: readonly DeferredPuback[]): { sent: number; stale: number } {
  if (acks.length === 0) return { sent: 0, stale: 0 };
  if (!client.connected) return { sent: 0, stale: acks.length };
  const stream = client.stream;
  const send = (client as unknown as SendPacket)._sendPacket.bind(client);
  stream.cork?.();
  let sent = 0;
  for (const a of acks) {
    if (a.stream !== stream) continue;
    send({ cmd: 'puback', messageId: a.messageId });
    sent++;
  }
  process.nextTick(() => stream.uncork?.());
  return { sent, stale: acks.length - sent };
}
