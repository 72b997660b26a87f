/**
 * Debian's Chromium, driven by playwright-core (no browser download): one headless browser
 * with a fresh profile per test file. Where Chromium is missing the browser tests do not
 * run, and say so in one visible line.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** The browser the tests drive: $SAMLITE_CHROMIUM, or Debian's package. */
export const CHROMIUM = process.env.SAMLITE_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the browser tests can run here; when not, one line on stderr says why. */
export function chromiumAvailable(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  process.stderr.write(`\n*** ${what}: browser tests did not run: no Chromium at ${CHROMIUM} (apt-get install chromium, or set SAMLITE_CHROMIUM) ***\n`);
  return false;
}

/** Launch headless Chromium with a fresh profile; `close` also removes the profile. */
export async function launchChromium(viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'samlite-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport,
    timeout: 0,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // No deadline of Playwright's own (30 s by default): on a loaded machine a page's wait may
  // legitimately take longer; vitest's per-test timeout is what catches a hang.
  context.setDefaultTimeout(0);
  context.setDefaultNavigationTimeout(0);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
