import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/design.md#parts-and-layers: common imports none of the parts, and the parts import only common.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAY_IMPORT: Record<string, string[]> = {
  common: ['common'],
  devices: ['common', 'devices'],
  gateway: ['common', 'gateway'],
  server: ['common', 'server'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** The top-level folder every relative import of `file` lands in. */
function importedFolders(file: string): { specifier: string; folder: string }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: { specifier: string; folder: string }[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|import\s*\(?\s*'(\.[^']+)'/g)) {
    const specifier = (m[1] ?? m[2])!;
    const target = relative(ROOT, resolve(ROOT, dirname(file), specifier));
    out.push({ specifier, folder: target.split('/')[0]! });
  }
  return out;
}

describe.each(Object.keys(MAY_IMPORT))('%s/', (folder) => {
  const files = sourceFiles(folder);

  it(`imports only from ${MAY_IMPORT[folder]!.join(' and ')}`, () => {
    expect(files.length).toBeGreaterThan(0);
    const crossing = files.flatMap((f) => importedFolders(f).filter((i) => !MAY_IMPORT[folder]!.includes(i.folder)).map((i) => `${f}: ${i.specifier}`));
    expect(crossing).toEqual([]);
  });

  it('reads no environment variable outside common/env.ts', () => {
    const readers = files.filter((f) => f !== 'common/env.ts' && /\bprocess\.env\b/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(readers).toEqual([]);
  });
});

it('bin/ reads no environment variable itself', () => {
  const readers = sourceFiles('bin').filter((f) => /\bprocess\.env\b/.test(readFileSync(join(ROOT, f), 'utf8')));
  expect(readers).toEqual([]);
});
