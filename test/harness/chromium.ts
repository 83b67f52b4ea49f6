import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { requireBinary } from './services.ts';

export interface HeadlessChromium {
  context: BrowserContext;
  /** The first page, ready to use. */
  page: Page;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** True when the machine has chromium; otherwise prints why tests skip (throws under CI=true). */
export function hasChromium(): boolean {
  return requireBinary('chromium') !== undefined;
}

/**
 * Debian's Chromium, headless, driven by playwright-core, with a fresh profile in a temp dir.
 * Audio may start without a click (the alarm siren), as on a duty-room screen that was set up once.
 */
export async function launchChromium(options: { width?: number; height?: number } = {}): Promise<HeadlessChromium> {
  const executablePath = requireBinary('chromium');
  if (!executablePath) throw new Error('chromium is not on PATH (apt-get install chromium)');
  const profile = await mkdtemp(join(tmpdir(), 'fm-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      viewport: { width: options.width ?? 1600, height: options.height ?? 1000 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
      timeout: 60_000,
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
