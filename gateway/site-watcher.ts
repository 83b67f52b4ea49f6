import { unwatchFile, watchFile } from 'node:fs';
import type { EnvironmentVariables } from '../common/env.ts';
import type { Logger } from '../common/logger.ts';
import { loadSiteFile } from '../common/site/load.ts';
import type { SiteConfig } from '../common/site/types.ts';
import type { MetricsRegistry } from '../common/metrics.ts';

/**
 * Watches the site file of a running process. A valid change is handed to `apply`; a broken one
 * is logged with its file, path and reason, counted, and the process keeps its current site.
 */
export function watchSiteFile(opts: {
  file: string;
  /** What the file's `${NAME}` refer to. */
  variables: EnvironmentVariables;
  logger: Logger;
  metrics: MetricsRegistry;
  apply: (site: SiteConfig) => Promise<void>;
  intervalMs?: number;
}): () => Promise<void> {
  const errors = opts.metrics.counter('fm_config_reload_errors_total', 'Changes of the site file refused because they are invalid');
  const reloads = opts.metrics.counter('fm_config_reloads_total', 'Changes of the site file applied');
  let applying = Promise.resolve();
  let stopped = false;
  const onChange = (curr: { mtimeMs: number }, prev: { mtimeMs: number }): void => {
    if (curr.mtimeMs === prev.mtimeMs) return;
    applying = applying.then(async () => {
      if (stopped) return;
      let site: SiteConfig;
      try {
        site = loadSiteFile(opts.file, opts.variables);
      } catch (err) {
        errors.inc();
        opts.logger.error({ err: (err as Error).message }, 'site file change refused; still running with the previous one');
        return;
      }
      try {
        await opts.apply(site);
        reloads.inc();
      } catch (err) {
        errors.inc();
        opts.logger.error({ err: (err as Error).message }, 'site file change could not be applied');
      }
    });
  };
  watchFile(opts.file, { interval: opts.intervalMs ?? 1000, persistent: false }, onChange);
  // Stopping waits for a change being applied, so the caller never stops what it is still starting.
  return () => {
    stopped = true;
    unwatchFile(opts.file, onChange);
    return applying;
  };
}
