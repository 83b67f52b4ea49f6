/** An error whose message is meant for the client: the status, and for 400s the field to fix. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (field: string, message: string): HttpError => new HttpError(400, `${field}: ${message}`, field);
export const notFound = (message: string): HttpError => new HttpError(404, message);

/** preValidation hook: a POST without a body means an empty object (actions whose fields are all optional). */
export async function emptyBodyIsEmptyObject(request: { body: unknown }): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}
