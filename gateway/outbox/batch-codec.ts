import { DEVICE_KINDS, type DeviceEvent, type DeviceKind, type Quality, type Reading } from '../../common/reading.ts';

/**
 * Binary form of one outbox record: the readings and events of one ingest call.
 *
 *   u8 version (1)
 *   varint n, n × (varint byteLength, utf8)            strings of this batch (building, device, unit, metric, …)
 *   varint n, n × reading
 *     u8 flags: bit0 unit, bit1 engUnit, bit2-3 value (0 null, 1 float64, 2 zigzag varint),
 *               bit4-5 quality (0 good, 1 uncertain, 2 bad), bit6 ts is float64 (else zigzag varint delta)
 *     varint building, device, kind[, unit], metric[, engUnit]; value; ts
 *   varint n, n × event
 *     u8 flags: bit0 unit, bit6 ts is float64
 *     varint building, device, kind[, unit], event; ts; varint attr count, count × (varint key, attr value)
 *     attr value: u8 tag (0 string → varint, 1 float64, 2 zigzag varint, 3 true, 4 false)
 *
 * Strings repeat across the readings of a batch, so each is written once and referenced by index.
 * Timestamps are deltas from the previous one in the batch. Integer values (levels in mm, pump 0/1)
 * take one to three bytes. Floats keep all 64 bits, so decode(encode(x)) is exact.
 */
export interface Batch {
  readings: Reading[];
  events: DeviceEvent[];
}

const VERSION = 1;
const QUALITIES: readonly Quality[] = ['good', 'uncertain', 'bad'];
const QUALITY_CODE: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 };
const KIND_SET: ReadonlySet<string> = new Set(DEVICE_KINDS);
// Integers up to 2^48 zigzag-encode exactly in doubles (2^49 < 2^53).
const VARINT_LIMIT = 2 ** 48;

class Writer {
  pos = 0;
  constructor(public buf: Buffer) {}
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  /** Unsigned integer < 2^53, 7 bits a byte. */
  varint(v: number): void {
    this.ensure(8);
    const b = this.buf;
    while (v >= 0x80) {
      b[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.pos++] = v;
  }
  zigzag(v: number): void {
    this.varint(v < 0 ? -v * 2 - 1 : v * 2);
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  str(s: string): void {
    const max = s.length * 3;
    this.ensure(max + 5);
    // Reserve one byte of length for short strings, the common case; move the bytes if it was not enough.
    if (max < 0x80) {
      const n = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = n;
      this.pos += 1 + n;
    } else {
      const n = Buffer.byteLength(s, 'utf8');
      this.varint(n);
      this.pos += this.buf.write(s, this.pos, 'utf8');
    }
  }
}

function isVarintInteger(v: number): boolean {
  return Number.isInteger(v) && v > -VARINT_LIMIT && v < VARINT_LIMIT && !Object.is(v, -0);
}

/** Reused across calls (encoding is synchronous): no per-batch buffers or closures on the hot path. */
class Encoder {
  readonly head = new Writer(Buffer.allocUnsafe(16 * 1024));
  readonly body = new Writer(Buffer.allocUnsafe(64 * 1024));
  private readonly dict = new Map<string, number>();
  private prevTs = 0;

  encode(batch: Batch): Buffer {
    const { head, body, dict } = this;
    head.pos = 0;
    body.pos = 0;
    dict.clear();
    this.prevTs = 0;
    const { readings, events } = batch;
    body.varint(readings.length);
    for (const r of readings) {
      const v = r.value;
      const valueCode = v === null ? 0 : isVarintInteger(v) ? 2 : 1;
      body.u8((r.unit !== undefined ? 1 : 0) | (r.engUnit !== undefined ? 2 : 0) | (valueCode << 2) | (QUALITY_CODE[r.quality] << 4) | this.tsFlag(r.ts));
      body.varint(this.ref(r.building));
      body.varint(this.ref(r.device));
      body.varint(this.ref(r.kind));
      if (r.unit !== undefined) body.varint(this.ref(r.unit));
      body.varint(this.ref(r.metric));
      if (r.engUnit !== undefined) body.varint(this.ref(r.engUnit));
      if (valueCode === 1) body.f64(v as number);
      else if (valueCode === 2) body.zigzag(v as number);
      this.ts(r.ts);
    }
    body.varint(events.length);
    for (const e of events) {
      body.u8((e.unit !== undefined ? 1 : 0) | this.tsFlag(e.ts));
      body.varint(this.ref(e.building));
      body.varint(this.ref(e.device));
      body.varint(this.ref(e.kind));
      if (e.unit !== undefined) body.varint(this.ref(e.unit));
      body.varint(this.ref(e.event));
      this.ts(e.ts);
      const keys = Object.keys(e.attrs);
      body.varint(keys.length);
      for (const k of keys) {
        body.varint(this.ref(k));
        const a = e.attrs[k];
        if (typeof a === 'string') {
          body.u8(0);
          body.varint(this.ref(a));
        } else if (typeof a === 'number') {
          if (isVarintInteger(a)) {
            body.u8(2);
            body.zigzag(a);
          } else {
            body.u8(1);
            body.f64(a);
          }
        } else body.u8(a ? 3 : 4);
      }
    }
    head.u8(VERSION);
    head.varint(dict.size);
    for (const s of dict.keys()) head.str(s);
    const out = Buffer.allocUnsafe(head.pos + body.pos);
    head.buf.copy(out, 0, 0, head.pos);
    body.buf.copy(out, head.pos, 0, body.pos);
    return out;
  }

  private ref(s: string): number {
    let i = this.dict.get(s);
    if (i === undefined) {
      i = this.dict.size;
      this.dict.set(s, i);
    }
    return i;
  }

  private tsFlag(t: number): number {
    return isVarintInteger(t) && isVarintInteger(t - this.prevTs) ? 0 : 0x40;
  }

  /** Written after tsFlag(t) with no other timestamp in between, so both see the same prevTs. */
  private ts(t: number): void {
    if (this.tsFlag(t) === 0) {
      this.body.zigzag(t - this.prevTs);
      this.prevTs = t;
    } else this.body.f64(t);
  }
}

const encoder = new Encoder();

/** The returned buffer is the caller's own; nothing keeps a reference to it. */
export function encodeBatch(batch: Batch): Buffer {
  return encoder.encode(batch);
}

export class BatchDecodeError extends Error {
  override readonly name = 'BatchDecodeError';
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  u8(): number {
    if (this.pos >= this.buf.length) throw new BatchDecodeError('batch is truncated');
    return this.buf[this.pos++] as number;
  }
  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
      if (mul > 2 ** 56) throw new BatchDecodeError('varint too long');
    }
  }
  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
  f64(): number {
    if (this.pos + 8 > this.buf.length) throw new BatchDecodeError('batch is truncated');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
}

class Decoder extends Reader {
  readonly strings: string[];
  private prevTs = 0;

  constructor(buf: Buffer) {
    super(buf);
    const version = this.u8();
    if (version !== VERSION) throw new BatchDecodeError(`unknown batch version ${version}`);
    const n = this.varint();
    this.strings = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const len = this.varint();
      if (this.pos + len > buf.length) throw new BatchDecodeError('batch is truncated');
      this.strings[i] = buf.toString('utf8', this.pos, this.pos + len);
      this.pos += len;
    }
  }

  ref(): number {
    const i = this.varint();
    if (i >= this.strings.length) throw new BatchDecodeError('string index out of range');
    return i;
  }

  str(): string {
    return this.strings[this.ref()] as string;
  }

  kind(): DeviceKind {
    const k = this.str();
    if (!KIND_SET.has(k)) throw new BatchDecodeError(`unknown device kind ${k}`);
    return k as DeviceKind;
  }

  ts(flags: number): number {
    if (flags & 0x40) return this.f64();
    this.prevTs += this.zigzag();
    return this.prevTs;
  }

  attr(): string | number | boolean {
    const tag = this.u8();
    switch (tag) {
      case 0:
        return this.str();
      case 1:
        return this.f64();
      case 2:
        return this.zigzag();
      case 3:
        return true;
      case 4:
        return false;
      default:
        throw new BatchDecodeError(`unknown attribute tag ${tag}`);
    }
  }
}

/**
 * Walks the readings of an encoded batch without building a `Reading` per reading: each
 * `next()` fills the fields below, strings given as indexes into `strings` (-1: absent), so a
 * caller can work per distinct string (e.g. escape it once) rather than per reading. After the
 * last reading, `events()` decodes the events.
 */
export class BatchReadings {
  /** The batch's strings (building, device, kind, unit, metric, engUnit values, …). */
  readonly strings: readonly string[];
  /** Readings in the batch. */
  readonly count: number;
  building = 0;
  device = 0;
  kind = 0;
  unit = -1;
  metric = 0;
  engUnit = -1;
  value: number | null = null;
  ts = 0;
  quality: Quality = 'good';
  private readonly r: Decoder;
  private done = 0;
  /** Per string: 1 a device kind, 2 not one, 0 not checked yet. */
  private readonly kindChecked: Uint8Array;

  constructor(buf: Buffer) {
    this.r = new Decoder(buf);
    this.strings = this.r.strings;
    this.count = this.r.varint();
    this.kindChecked = new Uint8Array(this.strings.length);
  }

  next(): boolean {
    if (this.done >= this.count) return false;
    const r = this.r;
    const flags = r.u8();
    this.building = r.ref();
    this.device = r.ref();
    const kind = r.ref();
    let checked = this.kindChecked[kind];
    if (checked === 0) this.kindChecked[kind] = checked = KIND_SET.has(this.strings[kind] as string) ? 1 : 2;
    if (checked !== 1) throw new BatchDecodeError(`unknown device kind ${this.strings[kind]}`);
    this.kind = kind;
    this.unit = flags & 1 ? r.ref() : -1;
    this.metric = r.ref();
    this.engUnit = flags & 2 ? r.ref() : -1;
    const valueCode = (flags >> 2) & 3;
    this.value = valueCode === 0 ? null : valueCode === 1 ? r.f64() : valueCode === 2 ? r.zigzag() : badValue();
    this.ts = r.ts(flags);
    const quality = QUALITIES[(flags >> 4) & 3];
    if (quality === undefined) throw new BatchDecodeError('bad quality code');
    this.quality = quality;
    this.done++;
    return true;
  }

  /** The batch's events; call once, after next() returned false. */
  events(): DeviceEvent[] {
    while (this.next());
    const r = this.r;
    const nEvents = r.varint();
    const events: DeviceEvent[] = new Array(nEvents);
    for (let i = 0; i < nEvents; i++) {
      const flags = r.u8();
      const building = r.str();
      const device = r.str();
      const kind = r.kind();
      const unit = flags & 1 ? r.str() : undefined;
      const event = r.str();
      const ts = r.ts(flags);
      const nAttrs = r.varint();
      const attrs: Record<string, string | number | boolean> = {};
      for (let j = 0; j < nAttrs; j++) {
        const key = r.str();
        const value = r.attr();
        if (key === '__proto__') Object.defineProperty(attrs, key, { value, enumerable: true, writable: true, configurable: true });
        else attrs[key] = value;
      }
      const e: DeviceEvent = { building, device, kind, event, ts, attrs };
      if (unit !== undefined) e.unit = unit;
      events[i] = e;
    }
    if (r.pos !== r.buf.length) throw new BatchDecodeError(`${r.buf.length - r.pos} trailing bytes after batch`);
    return events;
  }
}

export function decodeBatch(buf: Buffer): Batch {
  const c = new BatchReadings(buf);
  const s = c.strings;
  const readings: Reading[] = new Array(c.count);
  for (let i = 0; c.next(); i++) {
    const reading: Reading = { building: s[c.building] as string, device: s[c.device] as string, kind: s[c.kind] as DeviceKind, metric: s[c.metric] as string, value: c.value, ts: c.ts, quality: c.quality };
    if (c.unit >= 0) reading.unit = s[c.unit] as string;
    if (c.engUnit >= 0) reading.engUnit = s[c.engUnit] as string;
    readings[i] = reading;
  }
  return { readings, events: c.events() };
}

function badValue(): never {
  throw new BatchDecodeError('bad value code');
}
