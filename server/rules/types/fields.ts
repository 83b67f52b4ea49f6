/** JSON Schema fragments the rule types share. */
export const METRIC = { type: 'string', pattern: '^[a-z][a-z0-9_]*$' } as const;

/** A duration in integer milliseconds, from 0 to 7 days. */
export const MS = { type: 'integer', minimum: 0, maximum: 7 * 24 * 3_600_000 } as const;

export const EVENT_NAME = { type: 'string', minLength: 1 } as const;
