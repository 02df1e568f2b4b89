// A real headless Chromium for the sign-in pages, driven by playwright-core: a system Chromium when
// there is one (CHROMIUM_PATH, or Debian's /usr/bin/chromium), else the one @sparticuz/chromium
// ships inside its npm package, so `npm install && npm test` needs nothing but Node.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  const { executablePath, libraries } = await findChromium();
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
    ...(libraries ? { env: { ...process.env, LD_LIBRARY_PATH: [libraries, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } } : {}),
  });
}

/** A fresh browser profile (its own cookies) for `use`, closed after. */
export async function inContext<T>(browser: Browser, use: (page: Page, context: BrowserContext) => Promise<T>): Promise<T> {
  const context = await browser.newContext();
  try {
    return await use(await context.newPage(), context);
  } finally {
    await context.close();
  }
}

async function findChromium(): Promise<{ executablePath: string; libraries?: string }> {
  const named = process.env.CHROMIUM_PATH;
  if (named !== undefined) {
    if (!existsSync(named)) throw new Error(`CHROMIUM_PATH names ${named}, which does not exist`);
    return { executablePath: named };
  }
  if (existsSync(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM };
  const folder = await unpackedChromium();
  return { executablePath: join(folder, 'chromium'), libraries: join(folder, 'al2023', 'lib') };
}

/**
 * The package unpacks its brotli files (no download) into os.tmpdir(), reusing whatever is there.
 * Here it gets a folder of its own per version instead, filled under another name and renamed when
 * complete: a shared /tmp/chromium of another version, or one cut short, is never used. Its own
 * copies of the libraries Chromium needs beyond glibc (NSS, NSPR, expat) it unpacks only on Amazon
 * Linux, so it is told it runs there: the browser then needs nothing the machine may lack.
 */
async function unpackedChromium(): Promise<string> {
  const modules = join(process.cwd(), 'node_modules');
  const { version } = JSON.parse(readFileSync(join(modules, '@sparticuz', 'chromium', 'package.json'), 'utf8')) as { version: string };
  const folder = join(modules, '.cache', `sparticuz-chromium-${version}`);
  if (!existsSync(folder)) {
    const partial = `${folder}.partial-${process.pid}`;
    mkdirSync(partial, { recursive: true });
    // In a child process: the environment it needs must not leak into this one's other work.
    const unpack = 'const { default: chromium } = await import("@sparticuz/chromium"); await chromium.executablePath();';
    await promisify(execFile)(process.execPath, ['--input-type=module', '--eval', unpack], { env: { ...process.env, TMPDIR: partial, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x' } });
    try {
      renameSync(partial, folder);
    } catch (error) {
      // Another process finished first: theirs is as good.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(folder)) throw error;
    }
  }
  return folder;
}

/** A port nothing listens on right now, for a server whose public URL must be known in advance. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
