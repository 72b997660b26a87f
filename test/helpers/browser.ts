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

/**
 * Playwright's deadline for a launch or a wait: not its own 30 s, which a loaded machine can
 * reach, but just under vitest's 300 s test timeout, so a hang still fails naming what it
 * waited for.
 */
const PLAYWRIGHT_DEADLINE = 240_000;

/** Launch headless Chromium with a fresh profile; `close` also removes the profile. */
export async function launchChromium(viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'samlite-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport,
    // Deadlines just under vitest's 300 s: a loaded machine is slow, a hang still names its wait.
    timeout: PLAYWRIGHT_DEADLINE,
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
  context.setDefaultTimeout(PLAYWRIGHT_DEADLINE);
  context.setDefaultNavigationTimeout(PLAYWRIGHT_DEADLINE);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
