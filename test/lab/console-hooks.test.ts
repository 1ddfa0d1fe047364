// Issue 15 §2, the console side of event hooks: in Debian's Chromium (playwright-core) against a real
// three-node cluster (etcd on c1), the Hooks tab shows each hook's delivery state as `ipfo hook list`
// has it — a working exec hook with its last seq delivered and nothing pending, a webhook nobody answers
// with its last error and its pending events — and never the webhook's secret. Writes
// docs/screenshots/hooks-light.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { closeConsoleLab, LabBrowser, waitUntil } from './browser';

const RENDERER_INDEX = join(__dirname, '..', '..', '..', 'renderer', 'dist', 'index.html');
const SCREENSHOT_DIR = join(__dirname, '..', '..', '..', 'docs', 'screenshots');
const UI_TIMEOUT_MS = 15_000;
const CONSOLE_NODE = 'n1';
const SECRET = 'console-hook-secret-42';

describe('event hooks in the web console (Chromium, three-node lab cluster)', () => {
  let lab: Lab;
  let cluster: LabCluster;
  let browser: LabBrowser;
  let page: Page;
  let dir: string;
  const pageErrors: string[] = [];

  before(async () => {
    if (!existsSync(RENDERER_INDEX)) throw new Error(`${RENDERER_INDEX} is missing: run \`npm run build:renderer\` (part of \`npm run build\`)`);
    lab = await createLab({ nodes: 3, clients: 1, name: 'console-hooks' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
    dir = mkdtempSync(join(tmpdir(), `ipfo-console-hooks-${lab.id}-`));
    writeFileSync(join(dir, 'secret'), `${SECRET}\n`, { mode: 0o600 });
    const hooks: Array<[string, string[]]> = [
      ['notes', ['--on', 'move,online,resource.*', '--exec', '/usr/bin/tee', '--arg=-a', `--arg=${join(dir, 'exec.jsonl')}`]],
      // Nothing listens there: every attempt fails, and the events wait.
      ['pager', ['--on', '*', '--webhook', `http://${lab.host('c1').ip}:18299/ipfo`, '--secret-file', join(dir, 'secret'), '--timeout', '1']],
    ];
    for (const [name, args] of hooks) {
      const added = await cluster.cli('n1', ['hook', 'add', name, ...args]);
      assert.equal(added.code, 0, added.stderr);
    }
    const added = await cluster.api('n1', 'resource.add', { spec: { name: 'web', ip: `${lab.vip(5)}/24`, preferredOwners: ['n1'] } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n1', 'web', 'n1');
    const moved = await cluster.cli('n1', ['move', 'web', 'n2']);
    assert.equal(moved.code, 0, moved.stderr);
    const token = readFileSync(cluster.tokenFile(CONSOLE_NODE), 'utf8').trim();
    browser = await LabBrowser.launch(lab, CONSOLE_NODE);
    page = await browser.openConsole({ token, colorScheme: 'light', viewport: { width: 1280, height: 760 } });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.getByTestId('resource-row-web').waitFor({ timeout: UI_TIMEOUT_MS });
  });

  after(async () => {
    await closeConsoleLab({ browser, cluster, lab });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test('the Hooks tab shows each hook\'s last delivery, pending events and last error; never the secret', async () => {
    await page.getByTestId('tab-hooks').click();
    await waitUntil(async () => (await page.getByTestId('tab-hooks').getAttribute('aria-selected')) === 'true', UI_TIMEOUT_MS, 'the Hooks tab selected');
    const notes = page.getByTestId('hook-row-notes');
    const pager = page.getByTestId('hook-row-pager');
    await notes.waitFor({ timeout: UI_TIMEOUT_MS });
    const listed = JSON.parse((await cluster.cli('n3', ['hook', 'list', '--json'])).stdout) as { sender: string };
    await waitUntil(async () => /^seq \d+$/.test((await notes.getByTestId('last-delivered').innerText()).trim()) && (await notes.getByTestId('pending').innerText()).trim() === '0', UI_TIMEOUT_MS, 'notes delivered, nothing pending');
    await waitUntil(async () => /ECONNREFUSED|no answer/.test(await pager.getByTestId('last-error').innerText()) && Number((await pager.getByTestId('pending').innerText()).trim()) > 0, UI_TIMEOUT_MS, 'pager: its error and its pending events');
    assert.match(await page.getByTestId('hooks-sender').innerText(), new RegExp(`Sent by ${listed.sender}`));
    // What the page shows agrees with `ipfo hook list` on another node.
    const state = (JSON.parse((await cluster.cli('n3', ['hook', 'list', '--json'])).stdout) as { hooks: Array<{ hook: { name: string }; state: { lastDeliveredSeq: number | null } }> }).hooks.find((h) => h.hook.name === 'notes')!.state;
    assert.ok(state.lastDeliveredSeq !== null);
    const shown = Number((await notes.getByTestId('last-delivered').innerText()).trim().replace('seq ', ''));
    assert.ok(shown <= state.lastDeliveredSeq && shown > 0, `shown ${shown}, listed ${state.lastDeliveredSeq}`);
    const text = await page.locator('body').innerText();
    assert.ok(!text.includes(SECRET), 'the secret is never on the page');
    assert.match(await pager.innerText(), /\(signed\)/);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.waitForTimeout(300);
    writeFileSync(join(SCREENSHOT_DIR, 'hooks-light.png'), await page.screenshot({ animations: 'disabled' }));
    assert.deepEqual(pageErrors, []);
  });
});
