import { Type, type TSchema } from '@sinclair/typebox';

/** A string from a fixed list, as one JSON Schema `enum` (ajv then names the allowed values). */
export const StringEnum = <T extends readonly string[]>(values: T, options: { description?: string; default?: T[number] } = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A time as UTC epoch milliseconds, from 2000-01-01 up to 2100-01-01 (server/http/time-params.ts). */
export const EpochMs = (description = 'UTC epoch milliseconds') => Type.Integer({ minimum: 946_684_800_000, maximum: 4_102_444_799_999, description });

/** The `pattern` of NonBlank; the error handler answers "must not be blank" for it. */
export const NOT_BLANK = '\\S';

/** A text with at least one character that is not white space. */
export const NonBlank = (options: { maxLength: number; description?: string }) => Type.String({ minLength: 1, pattern: NOT_BLANK, ...options });

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'HTTP status text' }),
    message: Type.String({ description: 'what is wrong and what to do about it' }),
    field: Type.Optional(Type.String({ description: 'the request field to fix' })),
  },
  { title: 'Error' },
);

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid input; `field` names what to fix',
  401: 'not logged in, or the token expired',
  403: 'the role may not do this',
  404: 'no such thing',
  409: 'not allowed in the current state',
  429: 'too many requests',
  503: 'a service the answer depends on is unavailable',
};

/** Response schemas of the error codes a route can answer with. */
export function errors(...codes: number[]): Record<number, typeof ErrorBody> {
  return Object.fromEntries(codes.map((c) => [c, { ...ErrorBody, description: ERROR_TEXT[c] ?? 'error' }]));
}

/** The errors every route behind login can give. */
export const AUTH_ERRORS = [401, 403, 429] as const;

export const IdParam = Type.Object({ id: Type.Integer({ minimum: 1, description: 'numeric id' }) });
export const TextIdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
