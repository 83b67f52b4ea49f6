import type { Reading } from '../../common/reading.ts';
import type { Counter } from '../../common/metrics.ts';
import type { Ingest } from './connector.ts';

/**
 * Hands a polling connector's readings to the ingest without waiting for the disk, counting them
 * by quality. A refusal (outbox full with reject-new, a disk error) is counted and passed to
 * `refused`: a poll loop never throws, and the next cycle reads the devices again.
 */
export function handOver(
  ingest: Ingest,
  readings: Reading[],
  meters: { readings: Counter; ingestErrors: Counter },
  refused: (err: unknown) => void,
): void {
  if (readings.length === 0) return;
  let good = 0;
  for (const r of readings) if (r.quality === 'good') good++;
  meters.readings.inc({ quality: 'good' }, good);
  if (readings.length > good) meters.readings.inc({ quality: 'bad' }, readings.length - good);
  const fail = (err: unknown) => {
    meters.ingestErrors.inc({}, readings.length);
    refused(err);
  };
  try {
    ingest.submit(readings, []).catch(fail);
  } catch (err) {
    fail(err);
  }
}
