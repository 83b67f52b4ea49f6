import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from '../../http/http-error.ts';
import { NOT_BLANK } from '../../routes/schemas/common.ts';

/** Every error answer of the API. */
export interface ErrorBody {
  error: string;
  message: string;
  /** The request field to fix (`title`, `from`, `assignee.userId`), when one is to blame. */
  field?: string;
}

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

const pathToField = (instancePath: string): string => instancePath.replace(/^\//, '').replace(/\//g, '.');

/** 2 for a `multipleOf` of 0.01: the decimals it allows, when it is a power of ten below 1. */
function decimals(multipleOf: unknown): number | undefined {
  if (typeof multipleOf !== 'number' || multipleOf <= 0 || multipleOf >= 1) return undefined;
  const n = Math.round(-Math.log10(multipleOf));
  return Math.abs(10 ** -n - multipleOf) < 1e-12 ? n : undefined;
}

function describeValidation(errors: AjvError[], context: string | undefined): { field: string; message: string } {
  const e = errors[0]!;
  const base = pathToField(e.instancePath);
  const join = (name: string) => (base ? `${base}.${name}` : name);
  let field = base;
  let text = e.message ?? 'is not valid';
  if (e.keyword === 'required') {
    field = join(String(e.params.missingProperty));
    text = 'is required';
  } else if (e.keyword === 'additionalProperties') {
    field = join(String(e.params.additionalProperty));
    text = 'is not a known field';
  } else if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) {
    text = `must be one of ${e.params.allowedValues.join(', ')}`;
  } else if (e.keyword === 'type' && e.params.type) {
    text = `must be ${String(e.params.type).replace(/,/g, ' or ')}`;
  } else if (e.keyword === 'pattern' && e.params.pattern === NOT_BLANK) {
    text = 'must not be blank';
  } else if (e.keyword === 'multipleOf' && decimals(e.params.multipleOf) !== undefined) {
    text = `must have at most ${decimals(e.params.multipleOf)} decimals`;
  }
  const where = context === undefined ? 'request' : context === 'querystring' ? 'query' : context;
  if (!field) return { field: where, message: `${where}: ${text}` };
  return { field, message: `${context === 'body' || context === undefined ? '' : `${where} `}${field}: ${text}` };
}

/** The one error handler: 4xx bodies say what to fix, 5xx bodies hide internals behind the request id. */
export function errorBody(err: FastifyError | HttpError | Error, request: FastifyRequest): { statusCode: number; body: ErrorBody; headers: Record<string, string> } {
  const validation = (err as FastifyError).validation as AjvError[] | undefined;
  if (validation?.length) {
    const { field, message } = describeValidation(validation, (err as FastifyError).validationContext);
    return { statusCode: 400, body: { error: STATUS_CODES[400]!, message, field }, headers: {} };
  }
  const raw = (err as { statusCode?: unknown }).statusCode;
  const statusCode = typeof raw === 'number' && raw >= 400 && raw <= 599 ? raw : 500;
  const error = STATUS_CODES[statusCode] ?? 'Error';
  // HttpError messages are written for the client (a 503 saying which service is down); anything else may leak internals.
  if (statusCode >= 500 && !(err instanceof HttpError)) {
    return { statusCode, body: { error, message: `the server could not answer this request; its log has the details under request id ${request.id}` }, headers: {} };
  }
  const given = err instanceof HttpError ? err.field : (err as { field?: unknown }).field;
  let field = typeof given === 'string' ? given : undefined;
  let message = err.message;
  // Every 400 names what to fix: a body Fastify could not parse (bad JSON, an empty JSON body) is the body's fault.
  if (statusCode === 400 && field === undefined) {
    field = String((err as FastifyError).code ?? '').startsWith('FST_ERR_CTP_') ? 'body' : 'request';
    message = `${field}: ${message}`;
  }
  return {
    statusCode,
    body: { error, message, ...(field !== undefined ? { field } : {}) },
    headers: err instanceof HttpError ? err.headers : {},
  };
}

export const errorHandlerPlugin = fp(
  async (app) => {
    app.setErrorHandler((err, request, reply) => {
      const { statusCode, body, headers } = errorBody(err as FastifyError, request);
      if (statusCode >= 500) request.log.error({ err, method: request.method, url: request.url }, 'request failed');
      else request.log.info({ statusCode, message: body.message, url: request.url }, 'request refused');
      return reply.code(statusCode).headers(headers).send(body);
    });
    app.setNotFoundHandler((request, reply) => {
      const body: ErrorBody = { error: STATUS_CODES[404]!, message: `no route ${request.method} ${request.url.split('?')[0]}; the API is described at /docs` };
      return reply.code(404).send(body);
    });
  },
  { name: 'error-handler', fastify: '5.x' },
);
