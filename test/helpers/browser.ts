/**
 * A real browser for dashboard tests: Debian's chromium driven by playwright-core, with a
 * fresh profile, no background networking, every request and console error recorded.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.HEADROOM_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Chromium is required on CI (`.ci/run` installs it); elsewhere the browser tests skip without it. */
export const browserAvailable = existsSync(CHROMIUM) || !!process.env.CI;

export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'test-results', 'dashboard');

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Every URL a page of this browser requested, in order. */
  requests: string[];
  /** Console messages of type `error`, and uncaught page errors. */
  consoleErrors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** `executablePath`: another way to start Chromium (e.g. inside a network namespace, helpers/remote.ts). */
export async function launchBrowser(opts: { colorScheme?: 'dark' | 'light'; executablePath?: string; locale?: string; timezoneId?: string } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'headroom-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: opts.executablePath ?? CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1440, height: 900 },
    colorScheme: opts.colorScheme ?? 'dark',
    acceptDownloads: true,
    ...(opts.locale ? { locale: opts.locale } : {}),
    ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}),
  });
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  context.on('request', (r) => void requests.push(r.url()));
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on('pageerror', (e) => void consoleErrors.push(`pageerror: ${e.message}`));
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    requests,
    consoleErrors,
    async screenshot(name) {
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.evaluate('window.scrollTo(0, 0)'); // the sticky header belongs at the top
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The requests that went anywhere but `origin` (data: and blob: URLs never leave the page). */
export function foreignRequests(requests: readonly string[], origin: string): string[] {
  return requests.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin);
}
