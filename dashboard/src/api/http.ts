import type { Session } from '../types.ts';

/** A refused or failed request: the status and the server's message (4xx messages say what to fix). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** JSON over fetch with the session's bearer token; a 401 ends the session (the screen returns to the login). */
export class Api {
  session: Session | undefined;

  constructor(private readonly onUnauthorized: () => void) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.session) headers.authorization = `Bearer ${this.session.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    } catch (err) {
      throw new ApiError(0, err instanceof Error ? err.message : String(err));
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (res.ok) return json as T;
    const message = (json as { message?: string } | undefined)?.message ?? res.statusText;
    if (res.status === 401 && this.session && path !== '/api/auth/login') this.onUnauthorized();
    throw new ApiError(res.status, message);
  }

  /** A page (HTML) the server renders, fetched with the session's token. */
  async page(path: string): Promise<string> {
    const res = await fetch(path, { headers: this.session ? { authorization: `Bearer ${this.session.token}` } : {} }).catch((err: unknown) => {
      throw new ApiError(0, err instanceof Error ? err.message : String(err));
    });
    const text = await res.text();
    if (res.ok) return text;
    if (res.status === 401 && this.session) this.onUnauthorized();
    throw new ApiError(res.status, res.statusText);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** A text answer (a printable page, a CSV); errors as for JSON. */
  async getText(path: string): Promise<string> {
    const res = await fetch(path, { headers: this.session ? { authorization: `Bearer ${this.session.token}` } : {} }).catch((err: unknown) => {
      throw new ApiError(0, err instanceof Error ? err.message : String(err));
    });
    const text = await res.text();
    if (res.ok) return text;
    if (res.status === 401 && this.session) this.onUnauthorized();
    throw new ApiError(res.status, errorMessage(text) ?? res.statusText);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }
}

/** The `message` of an error body, if it is one. */
function errorMessage(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { message?: string }).message;
  } catch {
    return undefined;
  }
}
