/**
 * The DL/T 645-2007 frame (多功能电能表通信协议, clause 4):
 *
 *   [FE FE FE FE] 68 A0 A1 A2 A3 A4 A5 68 C L DATA… CS 16
 *
 * A0..A5 is the meter address, 12 BCD digits, low byte first. C is the control code, L the number
 * of data bytes. Every data byte is sent plus 33H. CS is the sum modulo 256 of every byte from the
 * first 68H to the end of the data. Masters send up to four FEH first to wake the receivers.
 * Shared by the simulated meters in `devices/` and the gateway's connector.
 */

export const FRAME_START = 0x68;
export const FRAME_END = 0x16;
export const WAKE_UP = 0xfe;
/** Added to every data byte on the wire. */
export const DATA_OFFSET = 0x33;
/** 68H, six address bytes, 68H, C, L, CS, 16H. */
export const FRAME_OVERHEAD = 12;
export const ADDRESS_BYTES = 6;

/** Control codes of clause 4.2.4 used here. */
export const CONTROL = {
  /** Master: read data (读数据). */
  read: 0x11,
  /** Meter: normal answer to a read. */
  readReply: 0x91,
  /** Meter: normal answer to a read, more frames follow (后续数据帧). */
  readReplyFollows: 0xb1,
  /** Meter: abnormal answer to a read (异常应答). */
  readError: 0xd1,
} as const;

/** D7 of the control code: set in frames a meter sends. */
export const FROM_METER = 0x80;
/** D6: set in an abnormal answer. */
export const ABNORMAL = 0x40;

export interface Frame {
  /** 12 digits, most significant first (`000000000101`); hex digits for wildcards and broadcast (`aaaaaaaaaaaa`). */
  address: string;
  control: number;
  /** The data field as meant (33H already taken off). */
  data: Uint8Array;
}

export class FrameError extends Error {
  override name = 'FrameError';
}

/** Sum modulo 256 of `bytes`. */
export function checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]!) & 0xff;
  return sum;
}

/** A0..A5 of an address: 12 digits (hex digits allowed for wildcards), low byte first. */
export function addressBytes(address: string): Uint8Array {
  if (!/^[0-9a-fA-F]{12}$/.test(address)) throw new FrameError(`meter address '${address}' is not 12 digits`);
  const out = new Uint8Array(ADDRESS_BYTES);
  for (let i = 0; i < ADDRESS_BYTES; i++) out[i] = Number.parseInt(address.slice(10 - 2 * i, 12 - 2 * i), 16);
  return out;
}

/** The address of A0..A5 at `offset`. */
export function addressOf(bytes: Uint8Array, offset = 0): string {
  let s = '';
  for (let i = ADDRESS_BYTES - 1; i >= 0; i--) s += bytes[offset + i]!.toString(16).padStart(2, '0');
  return s;
}

/** The bytes of a frame on the wire; `wakeUp` FEH bytes first (masters send 4). */
export function encodeFrame(frame: Frame, wakeUp = 0): Uint8Array {
  if (frame.data.length > 255) throw new FrameError(`data field of ${frame.data.length} bytes: at most 255`);
  const out = new Uint8Array(wakeUp + FRAME_OVERHEAD + frame.data.length);
  out.fill(WAKE_UP, 0, wakeUp);
  let i = wakeUp;
  out[i++] = FRAME_START;
  out.set(addressBytes(frame.address), i);
  i += ADDRESS_BYTES;
  out[i++] = FRAME_START;
  out[i++] = frame.control;
  out[i++] = frame.data.length;
  for (const b of frame.data) out[i++] = (b + DATA_OFFSET) & 0xff;
  out[i] = checksum(out, wakeUp, i);
  out[i + 1] = FRAME_END;
  return out;
}

/** What a FrameReader found in the bytes it was given. */
export type ReadEvent =
  | { kind: 'frame'; frame: Frame }
  /** A whole frame whose CS does not match its bytes; `address` as received (it may be the damaged part). */
  | { kind: 'checksum'; address: string; expected: number; received: number };

/**
 * Finds frames in a byte stream that arrives in pieces, with wake-up bytes and line noise between
 * them. A frame is taken when its two 68H, its length and its 16H line up; one whose CS is wrong is
 * reported as such and skipped whole.
 */
export class FrameReader {
  private buf: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): ReadEvent[] {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf);
    joined.set(chunk, this.buf.length);
    const events: ReadEvent[] = [];
    let i = 0;
    while (i < joined.length) {
      if (joined[i] !== FRAME_START) {
        i++;
        continue;
      }
      if (joined.length - i < 10) break;
      if (joined[i + 7] !== FRAME_START) {
        i++;
        continue;
      }
      const length = joined[i + 9]!;
      const total = FRAME_OVERHEAD + length;
      if (joined.length - i < total) break;
      if (joined[i + total - 1] !== FRAME_END) {
        i++;
        continue;
      }
      const expected = checksum(joined, i, i + total - 2);
      const received = joined[i + total - 2]!;
      const address = addressOf(joined, i + 1);
      if (expected !== received) {
        events.push({ kind: 'checksum', address, expected, received });
      } else {
        const data = joined.slice(i + 10, i + 10 + length).map((b) => (b - DATA_OFFSET) & 0xff);
        events.push({ kind: 'frame', frame: { address, control: joined[i + 8]!, data } });
      }
      i += total;
    }
    this.buf = joined.slice(i);
    return events;
  }

  /** Forgets a partial frame (before a new request, so a late answer's tail cannot join the next one). */
  reset(): void {
    this.buf = new Uint8Array(0);
  }
}

/** The one frame in `bytes` (wake-up bytes allowed). Throws FrameError naming what is wrong. */
export function decodeFrame(bytes: Uint8Array): Frame {
  const events = new FrameReader().push(bytes);
  const event = events[0];
  if (!event) throw new FrameError(`no complete frame in ${bytes.length} bytes`);
  if (event.kind === 'checksum') {
    throw new FrameError(`checksum of the frame from ${event.address} is ${hex(event.received)}, its bytes sum to ${hex(event.expected)}`);
  }
  return event.frame;
}

export function hex(n: number): string {
  return `${n.toString(16).toUpperCase().padStart(2, '0')}H`;
}
