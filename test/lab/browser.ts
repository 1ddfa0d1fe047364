// Debian's Chromium, driven by playwright-core, running INSIDE a lab host's network namespace: the
// agent serves the web console on that namespace's loopback (127.0.0.1:7790), which no other
// namespace can reach. playwright-core spawns `executablePath` itself and talks to it over pipes
// (fds 3 and 4); a two-line wrapper that execs `ip netns exec <ns> chromium` keeps those pipes and
// the PID (each step execs), so Playwright still owns the real browser process and can stop it.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Lab } from './lab';
import type { LabCluster } from './cluster';
import { LAB_NAMESPACE_PATTERN } from './lab-state';

/** Debian's package; never a browser Playwright downloads. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
/** Where the agent serves the console inside each node namespace. */
export const CONSOLE_ORIGIN = 'http://127.0.0.1:7790';

// Root has no sandbox user namespace to spare here; the rest keeps Chromium off the network and
// quiet (no component updates, sync or first-run pages in a namespace that has no Internet).
export const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const IP_CANDIDATES = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'];

export type ColorScheme = 'light' | 'dark';

export interface ConsolePageOptions {
  /** Put into the URL's fragment (#token=...), the way `ipfo agent` prints the console link. */
  token: string;
  colorScheme?: ColorScheme;
  viewport?: { width: number; height: number };
  /** Script run in the page before the console's own (e.g. a stand-in for the desktop bridge). */
  initScript?: string;
}

function ipBinary(): string {
  const found = IP_CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) throw new Error(`no iproute2 "ip" binary in ${IP_CANDIDATES.join(', ')}`);
  return found;
}

/** The console URL with the token in the fragment (never sent to the server in the request line). */
export function consoleUrl(token: string): string {
  return `${CONSOLE_ORIGIN}/#token=${encodeURIComponent(token)}`;
}

export class LabBrowser {
  private readonly contexts = new Set<BrowserContext>();
  private closed = false;
  // A test process that exits without close() (a failed hook, a signal handled by the lab's
  // cleanup) still deletes the wrapper; the browser itself dies with the lab's namespace sweep.
  private readonly removeWrapper = (): void => rmSync(this.wrapperDir, { recursive: true, force: true });

  private constructor(
    readonly browser: Browser,
    /** The namespace Chromium runs in. */
    readonly ns: string,
    private readonly wrapperDir: string,
  ) {
    process.once('exit', this.removeWrapper);
  }

  /** Starts headless Chromium in `host`'s network namespace. */
  static async launch(lab: Lab, host: string): Promise<LabBrowser> {
    const ns = lab.host(host).ns;
    // The only value that enters the wrapper script: a name the lab made, checked against the lab's
    // own pattern, so it can hold nothing a shell would interpret.
    if (!LAB_NAMESPACE_PATTERN.test(ns)) throw new Error(`refusing to launch a browser in "${ns}": not a lab namespace`);
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing (Debian package "chromium")`);
    const wrapperDir = mkdtempSync(join(tmpdir(), 'ipfo-browser-'));
    const wrapper = join(wrapperDir, 'chromium-in-netns');
    try {
      writeFileSync(wrapper, `#!/bin/sh\nexec ${ipBinary()} netns exec ${ns} ${CHROMIUM_PATH} "$@"\n`, { mode: 0o700 });
      const browser = await chromium.launch({ executablePath: wrapper, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
      return new LabBrowser(browser, ns, wrapperDir);
    } catch (error) {
      rmSync(wrapperDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** A fresh context (no shared storage) with one page showing the console. */
  async openConsole(options: ConsolePageOptions): Promise<Page> {
    const context = await this.browser.newContext({
      viewport: options.viewport ?? { width: 1440, height: 900 },
      deviceScaleFactor: 1,
      colorScheme: options.colorScheme ?? 'light',
      reducedMotion: 'reduce',
    });
    this.contexts.add(context);
    context.once('close', () => this.contexts.delete(context));
    const page = await context.newPage();
    if (options.initScript !== undefined) await page.addInitScript(options.initScript);
    await page.goto(consoleUrl(options.token), { waitUntil: 'domcontentloaded' });
    return page;
  }

  /** Closes every context and the browser, and deletes the wrapper. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      for (const context of [...this.contexts]) await context.close().catch(() => undefined);
      await this.browser.close();
    } finally {
      process.removeListener('exit', this.removeWrapper);
      this.removeWrapper();
    }
  }
}

/**
 * A console test's teardown: the browser, the cluster, then the lab, each even if an earlier one
 * fails (the browser runs inside a lab namespace, so the lab goes last).
 */
export async function closeConsoleLab(parts: { browser?: LabBrowser | null; cluster?: LabCluster | null; lab?: Lab | null }): Promise<void> {
  try {
    await parts.browser?.close();
  } finally {
    try {
      await parts.cluster?.destroy();
    } finally {
      await parts.lab?.destroy();
    }
  }
}

/** Polls `probe` every 50 ms until it gives a value (a throw counts as no value yet). */
export async function waitUntil<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null);
    if (value !== null && value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
