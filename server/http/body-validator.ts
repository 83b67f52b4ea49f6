import { AjvCompiler, type BuildCompilerFromPool } from '@fastify/ajv-compiler';

const pool = AjvCompiler();

/**
 * Fastify's validator compiler, except that JSON bodies are validated as sent: `{"userId": 0}`,
 * `""` or `false` where an integer is expected is a 400, not a 0 or a cleared field. Query strings,
 * path parameters and headers are text, so they keep Fastify's type coercion (`?limit=20`).
 */
export const buildValidator: BuildCompilerFromPool = (externalSchemas, options) => {
  const base = { customOptions: {}, ...options } as NonNullable<Parameters<BuildCompilerFromPool>[1]>;
  const coercing = pool(externalSchemas, base);
  const exact = pool(externalSchemas, { ...base, customOptions: { ...base.customOptions, coerceTypes: false } } as typeof base);
  return (route) => (route.httpPart === 'body' ? exact : coercing)(route);
};
