import type { DeviceEvent, Reading } from '../../common/reading.ts';
import { BatchReadings } from '../outbox/batch-codec.ts';
import type { StoreSelection, StoredReading } from './store-selection.ts';

// InfluxDB 1.x line protocol: https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/
// Tag keys, tag values and field keys escape comma, equals sign and space; string field values
// escape double quote and backslash. InfluxDB 1.x keeps other backslashes literally, but takes any
// separator that follows a backslash as escaped, so a value cannot end with a backslash: that one
// becomes a slash rather than making the line unparsable (which would fail the whole batch).
// Newlines end a line: they become spaces.
const TAG_SPECIAL = /[,= \\\n\r]/;
const TAG_ESCAPE = /[,= \n\r]/g;

export function escapeTag(s: string): string {
  if (!TAG_SPECIAL.test(s)) return s;
  const out = s.replace(TAG_ESCAPE, (c) => (c === '\n' || c === '\r' ? '\\ ' : '\\' + c));
  return out.endsWith('\\') ? out.slice(0, -1) + '/' : out;
}

const STRING_SPECIAL = /["\\]/g;

export function escapeStringField(s: string): string {
  return '"' + s.replace(STRING_SPECIAL, '\\$&') + '"';
}

/** Timestamps are epoch milliseconds written with precision=ms: never nanoseconds as numbers. */
function timestamp(ts: number): string {
  return String(Math.trunc(ts));
}

/**
 * The escaped series key of a reading: tags in lexical key order (what InfluxDB sorts them to
 * anyway, so it has nothing to do). Empty values are left out: the protocol has no empty tags.
 */
export function readingSeriesKey(r: Reading): string {
  let key = 'readings,building=' + escapeTag(r.building) + ',device=' + escapeTag(r.device);
  if (r.engUnit) key += ',eng_unit=' + escapeTag(r.engUnit);
  key += ',kind=' + escapeTag(r.kind) + ',metric=' + escapeTag(r.metric);
  if (r.unit) key += ',unit=' + escapeTag(r.unit);
  return key;
}

/**
 * `value` is a float field, absent when the reading has no value (quality `bad`): such points are
 * counted through `quality` and never reach mean() or sum(). `delta`, a counter's increase since
 * its previous stored reading, is a float field too, absent when unknown: a point written again
 * without it keeps the one it had.
 */
export function readingFields(r: StoredReading): string {
  const v = r.value;
  const q = qualityField(r.quality);
  const d = r.delta !== undefined && Number.isFinite(r.delta) ? 'delta=' + String(r.delta) + ',' : '';
  return v !== null && Number.isFinite(v) ? 'value=' + String(v) + ',' + d + q : q;
}

function escapeFieldKeyValue(key: string, value: string): string {
  return escapeTag(key) + '=' + escapeStringField(value);
}

export function readingLine(r: StoredReading): string {
  return readingSeriesKey(r) + ' ' + readingFields(r) + ' ' + timestamp(r.ts);
}

/** Prefix of the per-attribute string fields of an event; the whole map is in `attrs` as JSON. */
export const EVENT_ATTR_PREFIX = 'attr_';

export function eventLine(e: DeviceEvent): string {
  let key = 'events,building=' + escapeTag(e.building) + ',device=' + escapeTag(e.device) + ',event=' + escapeTag(e.event) + ',kind=' + escapeTag(e.kind);
  if (e.unit) key += ',unit=' + escapeTag(e.unit);
  let fields = 'attrs=' + escapeStringField(JSON.stringify(e.attrs ?? {}));
  for (const [k, v] of Object.entries(e.attrs ?? {})) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      // Strings for every attribute: one event sending `card: 42` and another `card: "A42"` must
      // not hit a field type conflict, which would reject the whole batch.
      fields += ',' + escapeFieldKeyValue(EVENT_ATTR_PREFIX + k, String(v));
    }
  }
  return key + ' ' + fields + ' ' + timestamp(e.ts);
}

/** The first and last time of the readings written, widened as lines are written. */
export interface TimeSpan {
  first: number;
  last: number;
}

/** One write request: line protocol, one point per line. */
export interface LineBody {
  text: Buffer;
  points: number;
}

function qualityField(q: string): string {
  return q === 'good' ? 'quality="good"' : q === 'bad' ? 'quality="bad"' : escapeFieldKeyValue('quality', q);
}

/**
 * Bodies of at most `pointsPerBody` points from readings and events, each built only when the
 * caller asks for it (when a request slot frees up), so no more than one is held unsent.
 */
export function* lineBodies(readings: readonly StoredReading[], events: readonly DeviceEvent[], pointsPerBody: number): Generator<LineBody, void, undefined> {
  let text = '';
  let points = 0;
  for (const r of readings) {
    text += points === 0 ? readingLine(r) : '\n' + readingLine(r);
    if (++points >= pointsPerBody) {
      yield { text: Buffer.from(text), points };
      text = '';
      points = 0;
    }
  }
  for (const e of events) {
    text += points === 0 ? eventLine(e) : '\n' + eventLine(e);
    if (++points >= pointsPerBody) {
      yield { text: Buffer.from(text), points };
      text = '';
      points = 0;
    }
  }
  if (points > 0) yield { text: Buffer.from(text), points };
}

/** Line protocol written as bytes into a growing buffer: no string per line, no rope to flatten. */
class BodyWriter {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = b[i] as number;
    this.pos = p;
  }
  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }
  /** A string that is known to be ASCII (a formatted number). */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }
  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  /** String(n) for a safe integer, without making the string. */
  integer(n: number): void {
    this.ensure(17);
    const buf = this.buf;
    if (n < 0) {
      buf[this.pos++] = 0x2d;
      n = -n;
    }
    if (n < 10) {
      buf[this.pos++] = 0x30 + n;
      return;
    }
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      buf[--p] = 0x30 + (n - q * 10);
      n = q;
    }
    buf[--p] = 0x30 + n;
  }
}

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
const KEY_BUILDING = enc('readings,building=');
const KEY_DEVICE = enc(',device=');
const KEY_ENG_UNIT = enc(',eng_unit=');
const KEY_KIND = enc(',kind=');
const KEY_METRIC = enc(',metric=');
const KEY_UNIT = enc(',unit=');
const FIELD_VALUE = enc(' value=');
const FIELD_DELTA = enc('delta=');
const QUALITY_FIELD: Record<string, Buffer> = {};
const NEWLINE = 0x0a;
const SPACE = 0x20;
const COMMA = 0x2c;

function qualityBytes(q: string): Buffer {
  return (QUALITY_FIELD[q] ??= enc(qualityField(q)));
}

/**
 * The same bodies straight from encoded outbox batches (batch-codec), without a `Reading` or a
 * string per reading: every distinct string of a batch is escaped once and lines are written as
 * bytes. Lines are exactly those of readingLine and eventLine. `selections[i]`, when given, says
 * which readings of `payloads[i]` to write and their deltas.
 */
export function* batchLineBodies(
  payloads: readonly Buffer[],
  pointsPerBody: number,
  selections?: readonly (StoreSelection | undefined)[],
  span?: TimeSpan,
): Generator<LineBody, void, undefined> {
  let w = new BodyWriter(64 * 1024);
  let points = 0;
  const line = (): void => {
    if (points > 0) w.byte(NEWLINE);
  };
  for (let p = 0; p < payloads.length; p++) {
    const c = new BatchReadings(payloads[p]!);
    const selection = selections?.[p];
    const s = c.strings;
    const escaped = new Array<Buffer | undefined>(s.length);
    const tag = (i: number): Buffer => (escaped[i] ??= enc(escapeTag(s[i] as string)));
    for (let i = 0; c.next(); i++) {
      if (selection && selection.keep[i] === 0) continue;
      line();
      w.bytes(KEY_BUILDING);
      w.bytes(tag(c.building));
      w.bytes(KEY_DEVICE);
      w.bytes(tag(c.device));
      if (c.engUnit >= 0 && s[c.engUnit]) {
        w.bytes(KEY_ENG_UNIT);
        w.bytes(tag(c.engUnit));
      }
      w.bytes(KEY_KIND);
      w.bytes(tag(c.kind));
      w.bytes(KEY_METRIC);
      w.bytes(tag(c.metric));
      if (c.unit >= 0 && s[c.unit]) {
        w.bytes(KEY_UNIT);
        w.bytes(tag(c.unit));
      }
      const v = c.value;
      if (v !== null && Number.isFinite(v)) {
        w.bytes(FIELD_VALUE);
        if (Number.isSafeInteger(v)) w.integer(v);
        else w.ascii(String(v));
        w.byte(COMMA);
        const d = selection?.deltas.get(i);
        if (d !== undefined && Number.isFinite(d)) {
          w.bytes(FIELD_DELTA);
          w.ascii(String(d));
          w.byte(COMMA);
        }
      } else w.byte(SPACE);
      w.bytes(qualityBytes(c.quality));
      w.byte(SPACE);
      const t = Math.trunc(c.ts);
      if (span) {
        if (t < span.first) span.first = t;
        if (t > span.last) span.last = t;
      }
      if (Number.isSafeInteger(t)) w.integer(t);
      else w.ascii(String(t));
      if (++points >= pointsPerBody) {
        yield { text: w.buf.subarray(0, w.pos), points };
        w = new BodyWriter(w.pos + (w.pos >> 3));
        points = 0;
      }
    }
    for (const e of c.events()) {
      line();
      w.utf8(eventLine(e));
      if (++points >= pointsPerBody) {
        yield { text: w.buf.subarray(0, w.pos), points };
        w = new BodyWriter(w.pos + (w.pos >> 3));
        points = 0;
      }
    }
  }
  if (points > 0) yield { text: w.buf.subarray(0, w.pos), points };
}
