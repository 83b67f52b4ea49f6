import type { DeviceEvent, Reading } from '../../common/reading.ts';
import type { DeviceConfig } from '../../common/site/types.ts';

/** A value a converter could not use; the connector counts and logs it, and a `bad` reading stands in its place. */
export interface ConversionProblem {
  metric: string;
  reason: string;
  detail: string;
}

/** What a converter made of one piece of raw protocol data. */
export interface Conversion {
  readings: Reading[];
  events: DeviceEvent[];
  problems: ConversionProblem[];
}

/** The parts of a device a reading carries. */
export type ReadingSource = Pick<DeviceConfig, 'id' | 'building' | 'kind' | 'unit'>;

/**
 * The other half of a connector (docs/extending.md): a pure function from the raw data a
 * connector got from one device (register words, a payload, data-item bytes) to readings and
 * events. No I/O and no clock: `ts` is when the data was read. Tests call it without sockets.
 */
export type Converter<Raw> = (raw: Raw, device: ReadingSource, ts: number) => Conversion;

/** A reading of `device`; `bad` with a null value when there is none. */
export function deviceReading(device: ReadingSource, metric: string, value: number | null, ts: number, engUnit?: string): Reading {
  const r: Reading = { building: device.building, device: device.id, kind: device.kind, metric, value, ts, quality: value === null ? 'bad' : 'good' };
  if (device.unit !== undefined) r.unit = device.unit;
  if (engUnit !== undefined) r.engUnit = engUnit;
  return r;
}
