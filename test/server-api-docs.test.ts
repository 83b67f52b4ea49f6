// The HTTP examples of docs/api.md run here, in order, against the demo estate.
//   <!-- example: http [as=USER] status=CODE -->  a request: `METHOD PATH`, a blank line, a JSON body
//   <!-- example: http-response -->              a subset the answer before it must contain
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSiteFile } from '../common/site/load.ts';
import { startTestServer, type TestServer } from './harness/server-app.ts';

interface Example {
  line: number;
  kind: string;
  attrs: Record<string, string>;
  text: string;
}

function examples(file: string): Example[] {
  const lines = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8').split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!--\s*example:\s*(http(?:-response)?)((?:\s+\S+=\S+)*)\s*-->$/.exec(lines[i]!.trim());
    if (!marker) continue;
    let j = i + 1;
    while (lines[j]?.trim() === '') j++;
    if (!/^```/.test(lines[j] ?? '')) throw new Error(`${file}:${i + 1}: example marker without a fenced block after it`);
    const body: string[] = [];
    for (j++; j < lines.length && !/^```\s*$/.test(lines[j]!); j++) body.push(lines[j]!);
    const attrs = Object.fromEntries(marker[2]!.trim().split(/\s+/).filter(Boolean).map((kv) => kv.split('=') as [string, string]));
    out.push({ line: i + 1, kind: marker[1]!, attrs, text: body.join('\n') });
  }
  return out;
}

const all = examples('docs/api.md');
const requests = all.filter((e) => e.kind === 'http');

let server: TestServer;
const T0 = Date.parse('2025-03-03T02:00:00Z');

beforeAll(async () => {
  server = await startTestServer({ site: loadSiteFile(), clock: () => T0 });
});
afterAll(async () => {
  await server?.close();
});

describe('docs/api.md examples', () => {
  it('has examples, each request with a status and each response after a request', () => {
    expect(requests.length).toBeGreaterThan(5);
    all.forEach((e, i) => {
      if (e.kind === 'http') expect(e.attrs.status, `docs/api.md:${e.line}`).toMatch(/^\d{3}$/);
      else expect(all[i - 1]?.kind, `docs/api.md:${e.line}: a response follows a request`).toBe('http');
    });
  });

  it('run as documented', async () => {
    for (const [i, e] of all.entries()) {
      if (e.kind !== 'http') continue;
      const [head, ...rest] = e.text.split('\n');
      const [method, url] = head!.trim().split(/\s+/) as ['GET' | 'POST', string];
      const json = rest.join('\n').trim();
      const options = { method, url, ...(json ? { payload: JSON.parse(json) as object } : {}) };
      const res = e.attrs.as ? await server.as(e.attrs.as, options) : await server.app.inject(options);
      expect(res.statusCode, `docs/api.md:${e.line}: ${res.body}`).toBe(Number(e.attrs.status));
      const next = all[i + 1];
      if (next?.kind === 'http-response') expect(res.json(), `docs/api.md:${next.line}`).toMatchObject(JSON.parse(next.text) as object);
    }
  });
});
