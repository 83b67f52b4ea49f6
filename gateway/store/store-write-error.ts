/**
 * A failed write to a reading store. `retryable` is false when retrying the same batch can never
 * succeed (InfluxDB rejected points as unparsable or as a field type conflict; the rest of the batch
 * was stored): the caller should set the batch aside instead of retrying it forever.
 */
export class StoreWriteError extends Error {
  override name = 'StoreWriteError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}
