import type { DeviceEvent, Reading } from '../../common/reading.ts';

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
 * counted through `quality` and never reach mean() or sum().
 */
export function readingFields(r: Reading): string {
  const v = r.value;
  const q = r.quality === 'good' ? 'quality="good"' : r.quality === 'bad' ? 'quality="bad"' : escapeFieldKeyValue('quality', r.quality);
  return v !== null && Number.isFinite(v) ? 'value=' + String(v) + ',' + q : q;
}

function escapeFieldKeyValue(key: string, value: string): string {
  return escapeTag(key) + '=' + escapeStringField(value);
}

export function readingLine(r: Reading): string {
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
