import { existsSync, readdirSync, rmSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../../common/logger.ts';
import { isMainModule } from '../../common/run-process.ts';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));
export const DASHBOARD_DIST = join(DASHBOARD_DIR, 'dist');
const COMMON_I18N = fileURLToPath(new URL('../../common/i18n/', import.meta.url));

/** What the dashboard is built from: its sources, its page and config, and the label catalogue. */
const SOURCES = [join(DASHBOARD_DIR, 'src'), join(DASHBOARD_DIR, 'index.html'), join(DASHBOARD_DIR, 'vite.config.ts'), COMMON_I18N];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why the built dashboard must be (re)built, or undefined when it is up to date. */
export function dashboardStaleReason(dist = DASHBOARD_DIST): string | undefined {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) return 'not built yet';
  const built = statSync(index).mtimeMs;
  const changed = SOURCES.find((p) => newestMtime(p) > built);
  return changed ? `${changed} changed since the last build` : undefined;
}

/**
 * Builds the dashboard with Vite into `dashboard/dist` when it is missing or older than its
 * sources, so `npm start` serves it with no extra step. Built into a temp folder first and renamed,
 * so a server never serves half a build.
 */
export async function ensureDashboardBuilt(options: { force?: boolean; logger?: Logger } = {}): Promise<'fresh' | 'built'> {
  const reason = options.force ? 'asked to' : dashboardStaleReason();
  if (reason === undefined) return 'fresh';
  const log = options.logger ?? createLogger('dashboard');
  const started = Date.now();
  log.info({ reason }, 'building the dashboard');
  const { build } = await import('vite');
  const tmp = join(DASHBOARD_DIR, `.dist-${process.pid}`);
  try {
    await build({ configFile: join(DASHBOARD_DIR, 'vite.config.ts'), logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } });
    rmSync(DASHBOARD_DIST, { recursive: true, force: true });
    renameSync(tmp, DASHBOARD_DIST);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  log.info({ ms: Date.now() - started, dir: DASHBOARD_DIST }, 'dashboard built');
  return 'built';
}

if (isMainModule(import.meta.url)) {
  await ensureDashboardBuilt({ force: process.argv.includes('--force') });
}
