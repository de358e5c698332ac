import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from './nodered-server';

/**
 * Headless Chromium from the Debian package, driven by playwright-core (which never downloads a browser).
 * OPENOBD_CHROMIUM overrides the path; OPENOBD_SKIP_BROWSER=1 skips the browser suites.
 */
export const CHROMIUM_PATH = process.env.OPENOBD_CHROMIUM || '/usr/bin/chromium';

/**
 * The flags this machine needs (no sandbox as root, no GPU, no background connections that a closed
 * network refuses). Playwright adds --headless and a fresh temporary --user-data-dir itself.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');

/** The reason to skip the browser suites (OPENOBD_SKIP_BROWSER=1), or undefined. */
export function browserSkipReason(): string | undefined {
  return process.env.OPENOBD_SKIP_BROWSER === '1' ? 'OPENOBD_SKIP_BROWSER=1: the real-browser editor tests are skipped' : undefined;
}

/** Throws with the way to install Chromium when it is not there. */
export function assertChromium(): void {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Install it with \`apt-get install -y --no-install-recommends chromium\` ` +
        '(Debian/Ubuntu; .ci/run does this), set OPENOBD_CHROMIUM to another Chromium, ' +
        'or set OPENOBD_SKIP_BROWSER=1 to skip the browser tests.',
    );
  }
}

export async function launchChromium(): Promise<Browser> {
  assertChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 120000 });
}

/** test-results/screenshots/<name>.png (the folder is created). */
export function screenshotFile(name: string): string {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
}
