import type { Reading } from '../../common/reading.ts';

/** A reading as the store keeps it: a counter's stored readings carry their increase since the stored one before. */
export interface StoredReading extends Reading {
  /** Increase of a cumulative counter since the previous stored reading of its series; absent when unknown or not a counter. */
  delta?: number;
}

/**
 * Which readings of one encoded outbox batch go into the store (docs/gateway.md#report-by-exception),
 * by their index in the batch, and the `delta` of the counters among them. Events are always stored.
 */
export interface StoreSelection {
  /** 1 for every reading to store, 0 for one to leave out. */
  keep: Uint8Array;
  /** Reading index → delta, for stored counter readings whose increase is known. */
  deltas: Map<number, number>;
}
