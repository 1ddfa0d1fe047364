// Issue 13 §4 in a real browser: the console's first screen comes from the paged stream's head, and
// the console stays correct when the operator sorts or filters before the rest of the cluster has
// arrived. Debian's Chromium (playwright-core) against the real API server and the production build
// of the console; the cluster behind the server is the bench's synthetic one (test/bench/ui-cluster.ts),
// streaming changes. A script in the page holds back the rows pushes until the test lets them go
// (changes keep flowing meanwhile, so they overtake the rows: the hard case), which makes "before
// the rest has arrived" a state the test controls, not a race. Needs no network namespace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startAgentServer, type AgentServer } from '../../main/api/server';
import { resourceRows, type ResourceSort } from '../../preload/contract/resource-order';
import { SyntheticCluster } from '../bench/ui-cluster';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, waitUntil } from './browser';
import { RESOURCE_TABLE_COLUMNS } from '../../renderer/src/model/resource-columns';

const DIST = join(__dirname, '..', '..', '..', 'renderer', 'dist');
const RESOURCES = 20_000;

const HOLD_ROWS = `(() => {
  const held = [];
  const released = new WeakSet();
  let holding = true;
  const NativeWebSocket = window.WebSocket;
  class HoldingWebSocket extends NativeWebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (event) => {
        if (released.has(event) || !holding) return;
        if (typeof event.data === 'string' && event.data.startsWith('{"type":"snapshot-rows"')) {
          event.stopImmediatePropagation();
          held.push([this, event.data]);
        }
      });
    }
  }
  window.WebSocket = HoldingWebSocket;
  Object.defineProperty(window, '__heldRows', { get: () => held.length });
  Object.defineProperty(window, '__releaseRows', {
    value: () => {
      holding = false;
      for (const [socket, data] of held.splice(0)) {
        const event = new MessageEvent('message', { data });
        released.add(event);
        socket.dispatchEvent(event);
      }
      return true;
    },
  });
})();`;

/** Each row's cells as the person reads them (innerText), the row's buttons left out. */
const CELL_TEXTS = (selector: string, nameAttribute: string, prefix = ''): string => `Object.fromEntries([...document.querySelectorAll('${selector}')].map((row) => [
  row.getAttribute('${nameAttribute}').slice(${prefix.length}),
  [...row.querySelectorAll('[role="gridcell"]:not(.actions-cell)')].map((cell) => cell.innerText.trim()),
]))`;
const FIRST_SCREEN_CELLS = CELL_TEXTS('[data-first-screen-row]', 'data-first-screen-row');
const CONSOLE_CELLS = CELL_TEXTS('[data-testid^="resource-row-"]', 'data-testid', 'resource-row-');
/** The column whose text depends on when it was drawn ("since": a relative time). */
const SINCE_COLUMN = RESOURCE_TABLE_COLUMNS.findIndex((column) => column.id === 'since');

const SHOWN_ROWS = `[...document.querySelectorAll('[data-testid^="resource-row-"]')].map((row) => row.getAttribute('data-testid').slice('resource-row-'.length))`;
const TABLE_REVISION = `Number(document.querySelector('[data-testid="resource-table"]')?.getAttribute('data-revision') ?? -1)`;

const available = existsSync(CHROMIUM_PATH) && existsSync(join(DIST, 'index.html'));

describe('the console\'s first screen (paged stream)', { skip: available ? false : 'needs /usr/bin/chromium and a built renderer/dist' }, () => {
  const token = randomBytes(32).toString('hex');
  const cluster = new SyntheticCluster(RESOURCES, 5);
  let server: AgentServer;
  let browser: Browser;

  before(async () => {
    server = await startAgentServer({ handler: cluster, token, host: '127.0.0.1', port: 0, staticDir: DIST, heartbeatMs: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
  });

  after(async () => {
    cluster.stopStream();
    await browser?.close();
    await server?.close();
  });

  /** The first `count` names of the view, from the cluster's own state. */
  const truth = (filter: string, sort: ResourceSort, count: number): string[] =>
    resourceRows(Array.from({ length: RESOURCES }, (_, i) => cluster.resource(`vip-${String(i).padStart(5, '0')}`)).filter((row) => row !== undefined), filter, sort)
      .slice(0, count)
      .map((row) => row.name);

  async function open(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, reducedMotion: 'reduce' });
    await context.addInitScript(HOLD_ROWS);
    const page = await context.newPage();
    await page.goto(`${server.origin}/#token=${token}`);
    await page.locator('[data-testid^="resource-row-"]').first().waitFor({ timeout: 30_000 });
    return page;
  }

  test('the first page is painted before the console has loaded, cell for cell as the console then shows it, and no change is lost meanwhile', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, reducedMotion: 'reduce' });
    try {
      // The console's chunk is held until the test lets it go: "before the console has loaded" is a
      // state, not a race.
      let releaseConsole: () => void = () => undefined;
      const consoleHeld = new Promise<void>((resolve) => (releaseConsole = resolve));
      let consoleRequested = false;
      await context.route(/\/assets\/main-[^/]*\.js$/, async (route) => {
        consoleRequested = true;
        await consoleHeld;
        await route.continue();
      });
      const page = await context.newPage();
      await page.goto(`${server.origin}/#token=${token}`);
      await page.locator('[data-first-screen-row]').first().waitFor({ timeout: 30_000 });
      await waitUntil(() => Promise.resolve(consoleRequested), 10_000, 'the console requested after the first paint');
      const painted = await page.evaluate<Record<string, string[]>>(FIRST_SCREEN_CELLS);
      const names = Object.keys(painted);
      // The window's rows of the default view (900 px: 30 rows of 30 px), and nothing of the console yet.
      assert.equal(names.length, 30);
      assert.deepEqual(names, truth('', { column: 'name', direction: 'asc' }, 30));
      assert.equal(await page.locator('[data-testid^="resource-row-"]').count(), 0);
      assert.match(await page.locator('#first-screen .toolbar-count').innerText(), /^20,000 resources/);
      assert.equal(page.url().includes(token), false, 'the credential is off the address bar at once');

      // Changes stream while the console loads; the messages that came meanwhile are read in order.
      cluster.startStream(300);
      await new Promise((resolve) => setTimeout(resolve, 800));
      releaseConsole();
      await page.locator('[data-testid^="resource-row-"]').first().waitFor({ timeout: 30_000 });
      await page.locator('#first-screen').waitFor({ state: 'detached', timeout: 10_000 });
      const { lastRevision } = cluster.stopStream();
      await waitUntil(async () => (await page.evaluate<number>(TABLE_REVISION)) === lastRevision, 10_000, 'every change applied');
      for (const name of names.slice(0, 12)) {
        const row = page.getByTestId(`resource-row-${name}`);
        assert.equal(await row.getAttribute('data-state'), cluster.resource(name)?.status.state, name);
      }

      // Same rows, same cells: a fresh first screen next to the console, with the stream stopped.
      const again = await context.newPage();
      await again.goto(`${server.origin}/#token=${token}`);
      await again.locator('[data-first-screen-row]').first().waitFor({ timeout: 30_000 });
      const before = await again.evaluate<Record<string, string[]>>(FIRST_SCREEN_CELLS);
      releaseConsole();
      await again.locator('#first-screen').waitFor({ state: 'detached', timeout: 30_000 });
      const after = await again.evaluate<Record<string, string[]>>(CONSOLE_CELLS);
      assert.equal(Object.keys(before).length, 30);
      for (const [name, cells] of Object.entries(before)) {
        const shown = after[name];
        assert.ok(shown !== undefined, `${name} is in the console`);
        assert.equal(cells.length, shown.length, name);
        assert.match(cells[SINCE_COLUMN] ?? '', /ago|just now|—/, name);
        const without = (texts: string[]) => texts.filter((_, index) => index !== SINCE_COLUMN);
        assert.deepEqual(without(cells), without(shown), name);
      }
    } finally {
      cluster.stopStream();
      await context.close();
    }
  });

  test('a console script that cannot load is said on the first screen, not left as a picture that never answers', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      await context.route(/\/assets\/main-[^/]*\.js$/, (route) => route.abort('connectionrefused'));
      const page = await context.newPage();
      await page.goto(`${server.origin}/#token=${token}`);
      await page.locator('[data-first-screen-row]').first().waitFor({ timeout: 30_000 });
      const alert = page.getByRole('alert');
      await alert.waitFor({ timeout: 10_000 });
      assert.match(await alert.innerText(), /^The console could not load \(.+\): reload the page\.$/);
    } finally {
      await context.close();
    }
  });

  test('the first page shows before the rest; a sort and a filter chosen meanwhile show the right rows once it is in', async () => {
    cluster.startStream(300);
    const page = await open();
    try {
      // The head's page, in the default order (names do not change), while every rows push is held.
      assert.ok((await page.evaluate<number>('window.__heldRows')) >= 1);
      const first = await page.evaluate<string[]>(SHOWN_ROWS);
      assert.deepEqual(first.slice(0, 10), truth('', { column: 'name', direction: 'asc' }, 10));
      await page.getByTestId('resources-loading').waitFor();
      assert.match(await page.getByTestId('resource-count').innerText(), /20,000 resources/);

      // Another order and a filter before the rest: nothing is shown as if it were the answer.
      await page.getByTestId('sort-state').click();
      await page.getByTestId('resource-filter').fill('owner:n2');
      await page.getByTestId('resources-waiting').waitFor();
      assert.deepEqual(await page.evaluate<string[]>(SHOWN_ROWS), []);

      // The stream goes on (changes overtake the held rows), then stops; the rows are let go.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const { lastRevision } = cluster.stopStream();
      await waitUntil(async () => (await page.evaluate<number>(TABLE_REVISION)) === lastRevision, 10_000, 'the changes applied');
      await page.evaluate('window.__releaseRows()');
      await page.getByTestId('resources-loading').waitFor({ state: 'detached' });
      const want = truth('owner:n2', { column: 'state', direction: 'asc' }, 12);
      const shown = await waitUntil(async () => {
        const rows = await page.evaluate<string[]>(SHOWN_ROWS);
        return rows.length >= 12 ? rows : null;
      }, 10_000, 'the rows of the chosen view');
      assert.deepEqual(shown.slice(0, 12), want);
      // Every row shows its latest state (the held rows did not overwrite a newer change).
      for (const name of shown.slice(0, 12)) {
        const row = page.getByTestId(`resource-row-${name}`);
        assert.equal(await row.getAttribute('data-state'), cluster.resource(name)?.status.state, name);
      }
      await page.getByTestId('resource-filter').fill('');
      await waitUntil(async () => /^20,000 resources/.test(await page.getByTestId('resource-count').innerText()), 10_000, 'the whole count');
    } finally {
      await page.context().close();
    }
  });
});
