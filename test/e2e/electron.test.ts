// End to end: the desktop console (Electron, launched by Playwright) against a real `ipfo agent`
// on a single-host file store in a temp directory. Checks the window's isolation, the preload's
// surface, the IPC checks, CSP, blocked navigation and windows, the stream, the renderer's
// connection screen (the window's one page: disconnect, connect again) and the single-instance lock.
//
// Needs: the Electron binary (npm's electron package downloads it on first run, from github.com),
// a display (DISPLAY/WAYLAND_DISPLAY, or run under xvfb-run), and a normal user (Chromium's sandbox
// refuses root, and the console keeps its sandbox). Where one is missing the test is skipped and
// says which. The agent here holds no enabled resource, so it sends no ARP and adds no address.
//
//   npm run build && node --test --test-reporter=spec build/test/e2e/electron.test.js
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import type { ElectronApplication, Page } from 'playwright-core';
import type { IpfoBridge, StreamMessage } from '../../preload/contract/ipc';
import { CONSOLE_ORIGIN } from '../../main/console/app-pages';
import { findElectronBinary } from '../../main/console/electron-binary';
import { hasDisplay } from '../../main/console/start-decision';

const ROOT = resolve(__dirname, '..', '..', '..');

/** Why this machine cannot run the test, or null. */
function blocker(): string | null {
  const binary = findElectronBinary();
  if (!binary.installed) return `Electron binary not installed: ${binary.reason} (npm's electron package downloads it on first run, which needs github.com)`;
  if (!hasDisplay(process.platform, process.env)) return 'no display: set DISPLAY or WAYLAND_DISPLAY (e.g. run under xvfb-run)';
  if (process.getuid?.() === 0) return 'running as root: Chromium\'s sandbox refuses root and the console keeps its sandbox; run as a normal user';
  return null;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** A real agent, single-host file store under `dir`; resolves once it listens. */
async function startAgent(dir: string, port: number): Promise<ChildProcess> {
  const agent = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'ipfo'), 'agent', '--node', 'e2e', '--store', `file:${join(dir, 'store')}`, '--api', `127.0.0.1:${port}`, '--token-file', join(dir, 'token'), '--state-dir', join(dir, 'run'), '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let errors = '';
  agent.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString('utf8');
  });
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the agent did not start: ${errors}`)), 20_000);
    agent.once('exit', (code) => fail(new Error(`the agent exited (${code}): ${errors}`)));
    createInterface({ input: agent.stdout }).on('line', (line) => {
      if (line.includes('"event":"listening"')) {
        clearTimeout(timer);
        done();
      }
    });
  });
  return agent;
}

type PageGlobals = { ipfo: IpfoBridge; e2eMessages?: StreamMessage[] };

function bridge(page: Page): Promise<unknown> {
  return page.evaluate(() => typeof (globalThis as unknown as PageGlobals).ipfo);
}

test('the desktop console: isolation, preload surface, IPC checks, CSP, stream, single instance', { timeout: 120_000 }, async (t) => {
  const why = blocker();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const binary = findElectronBinary();
  if (!binary.installed) return;
  const { _electron } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'ipfo-e2e-electron-'));
  const port = await freePort();
  const env = {
    ...process.env,
    IPFO_CONSOLE_API: `127.0.0.1:${port}`,
    IPFO_CONSOLE_TOKEN_FILE: join(dir, 'token'),
    IPFO_CONSOLE_STORE_DIR: join(dir, 'store'),
    IPFO_CONSOLE_USER_DATA: join(dir, 'user-data'),
  };
  let agent: ChildProcess | null = null;
  let app: ElectronApplication | null = null;
  try {
    agent = await startAgent(dir, port);
    app = await _electron.launch({ executablePath: binary.path, args: [ROOT], env, cwd: ROOT });
    const page = await app.firstWindow();
    await page.waitForFunction(() => typeof (globalThis as unknown as PageGlobals).ipfo === 'object');
    await page.waitForURL((url) => url.href.startsWith(`${CONSOLE_ORIGIN}/`));

    // The window: one, its renderer sandboxed (Chromium's Linux sandbox is a seccomp-bpf filter:
    // "Seccomp: 2"), the page isolated from the preload (contextBridge objects arrive frozen) and
    // without Node.
    const renderer = await app.evaluate(({ BrowserWindow }) => ({
      count: BrowserWindow.getAllWindows().length,
      pid: BrowserWindow.getAllWindows()[0]?.webContents.getOSProcessId() ?? 0,
    }));
    assert.equal(renderer.count, 1);
    if (process.platform === 'linux') assert.match(readFileSync(`/proc/${renderer.pid}/status`, 'utf8'), /^Seccomp:\s+2$/m);
    assert.equal(await page.evaluate(() => Object.isFrozen((globalThis as unknown as PageGlobals).ipfo)), true);
    const globals = await page.evaluate(() => {
      const scope = globalThis as unknown as Record<string, unknown>;
      return { require: typeof scope.require, process: typeof scope.process, ipcRenderer: typeof scope.ipcRenderer, Buffer: typeof scope.Buffer };
    });
    assert.deepEqual(globals, { require: 'undefined', process: 'undefined', ipcRenderer: 'undefined', Buffer: 'undefined' });
    assert.equal(await bridge(page), 'object');

    // The preload's surface: the domain verbs and nothing else.
    const surface = await page.evaluate(() => {
      const ipfo = (globalThis as unknown as PageGlobals).ipfo;
      return { verbs: Object.keys(ipfo).sort(), connection: Object.keys(ipfo.connection).sort() };
    });
    assert.deepEqual(surface.verbs, ['connection', 'request', 'subscribe']);
    assert.deepEqual(surface.connection, ['connect', 'disconnect', 'forget', 'list', 'startLocalAgent', 'status']);

    // Connected to the local agent at start (its token file is readable by this user here).
    const status = await page.evaluate(() => (globalThis as unknown as PageGlobals).ipfo.connection.status());
    assert.ok(status.ok && status.value.phase === 'connected' && status.value.kind === 'local', JSON.stringify(status));

    // Commands go through to the real agent; hostile arguments do not.
    const added = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).ipfo.request('resource.add', { spec: { name: 'e2e-web', ip: '10.213.250.10', prefix: 24, enabled: false } }),
    );
    assert.ok(added.ok, JSON.stringify(added));
    const snapshot = await page.evaluate(() => (globalThis as unknown as PageGlobals).ipfo.request('snapshot', {}));
    assert.ok(snapshot.ok && snapshot.value.snapshot.resources.some((resource) => resource.name === 'e2e-web'));
    const hostile = await page.evaluate(() => (globalThis as unknown as PageGlobals).ipfo.request('resource.move', { name: 'e2e-web', target: 'best', force: true } as never));
    assert.ok(!hostile.ok && hostile.error.code === 'bad-request');
    const invalid = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).ipfo.request('resource.add', { spec: { name: 'bad name!', ip: '300.1.1.1' } }),
    );
    assert.ok(!invalid.ok && (invalid.error.issues ?? []).length > 0, JSON.stringify(invalid));

    // The stream: the connection state, then a snapshot.
    await page.evaluate(() => {
      const scope = globalThis as unknown as PageGlobals;
      scope.e2eMessages = [];
      scope.ipfo.subscribe((message) => scope.e2eMessages?.push(message));
    });
    await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).e2eMessages ?? []).some((message) => message.type === 'snapshot'));

    // The renderer is the one UI, connection screen included: disconnect from its connection
    // dialog, then connect to the local agent again from its connection screen; the page stays.
    const consoleUrl = page.url();
    await page.getByTestId('resource-row-e2e-web').waitFor();
    await page.getByTestId('switch-cluster').click();
    const current = page.getByTestId('connection-state');
    assert.match(await current.innerText(), /Connected to This host/);
    await page.getByTestId('disconnect').click();
    await page.getByTestId('connection-screen').waitFor();
    assert.equal(await page.getByTestId('resource-row-e2e-web').count(), 0, 'the ended session\'s cluster is gone');
    await page.getByTestId('connect-local').click();
    await page.getByTestId('resource-row-e2e-web').waitFor();
    assert.equal(page.url(), consoleUrl, 'no other page was loaded');

    // No new windows, no navigation, no network, no inline script.
    const url = page.url();
    const sealed = await page.evaluate(async () => {
      const scope = globalThis as unknown as { open(url: string): unknown; document: { createElement(tag: string): { textContent: string }; head: { append(node: unknown): void } }; e2eInline?: number };
      const opened = scope.open('https://example.invalid/');
      const fetched = await fetch('https://example.invalid/').then(
        () => 'allowed',
        () => 'blocked',
      );
      const script = scope.document.createElement('script');
      script.textContent = 'globalThis.e2eInline = 1';
      scope.document.head.append(script);
      return { opened: opened === null, fetched, inline: scope.e2eInline === undefined };
    });
    assert.deepEqual(sealed, { opened: true, fetched: 'blocked', inline: true });
    await page.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.invalid/';
    });
    await new Promise((done) => setTimeout(done, 1_000));
    assert.equal(page.url(), url, 'navigation was blocked');
    assert.equal(app.windows().length, 1);

    // A second instance hands over to the first and exits.
    const second = spawn(binary.path, [ROOT], { env, stdio: 'ignore' });
    const code = await new Promise<number | null>((done) => {
      const timer = setTimeout(() => {
        second.kill('SIGKILL');
        done(-1);
      }, 15_000);
      second.once('exit', (exitCode) => {
        clearTimeout(timer);
        done(exitCode);
      });
    });
    assert.notEqual(code, -1, 'the second instance exited by itself');
    assert.equal(app.windows().length, 1);
  } finally {
    await app?.close().catch(() => undefined);
    if (agent !== null && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await new Promise((done) => agent?.once('exit', done));
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
