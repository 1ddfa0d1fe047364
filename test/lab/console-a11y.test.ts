// Issue 16 acceptance, the web console for keyboard and screen-reader users, in Debian's Chromium
// against a real two-node lab cluster: an axe-core audit of every view in light and dark (no
// serious or critical violation, colour contrast included), and a walk that creates, moves and
// takes a resource offline with Tab, Enter and the arrow keys only (no mouse).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { closeConsoleLab, LabBrowser, waitUntil, type ColorScheme } from './browser';

const ARP_SEND = join(__dirname, 'tools', 'arp-send.js');
const RENDERER_INDEX = join(__dirname, '..', '..', '..', 'renderer', 'dist', 'index.html');
const UI_TIMEOUT_MS = 10_000;
const CONSOLE_NODE = 'n1';
/** WCAG 2.1 A and AA: what axe checks by these tags includes colour contrast (a "serious" rule). */
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/**
 * The connection screen exists only in the desktop console (window.ipfo from Electron's preload):
 * a stand-in bridge, disconnected, with one remembered cluster and a local agent it could start.
 * A string, run in the page before the console's script (the test's tsconfig has no DOM types).
 */
const FAKE_DESKTOP_BRIDGE = `(() => {
  const current = { phase: 'disconnected', kind: null, id: null, label: null, endpoint: null, actor: null, user: null, role: null, detail: 'No agent answers on 127.0.0.1:7790' };
  const list = { saved: [{ id: 'c0ffee00', label: 'Lab cluster', endpoint: 'wss://10.0.0.1:7790/api', tls: true, hasCa: true, lastUsed: 1700000000000 }], local: { endpoint: '127.0.0.1:7790', answering: false, canStart: true }, current };
  const ok = (value) => Promise.resolve({ ok: true, value });
  const refused = () => Promise.resolve({ ok: false, error: { code: 'unavailable', message: 'not in this test' } });
  window.ipfo = {
    request: refused,
    subscribe: () => () => undefined,
    connection: { status: () => ok(current), list: () => ok(list), connect: refused, forget: refused, disconnect: () => ok(current), startLocalAgent: refused },
  };
})();`;

/** The serious and critical violations (colour contrast is one) of the page as it is now, one line each. */
async function audit(page: Page, where: string): Promise<string[]> {
  // Transitions and the focus settle first: axe reads computed colours.
  await page.waitForTimeout(300);
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical' || violation.id === 'color-contrast')
    .map((violation) => `${where}: ${violation.id} (${violation.impact ?? '?'}) on ${violation.nodes.length}: ${violation.nodes.slice(0, 3).map((node) => node.target.join(' ')).join(' | ')}`);
}

/** The data-testid (or else tag and name) of the focused element. */
function focused(page: Page): Promise<string> {
  return page.evaluate<string>(`(() => {
    const element = document.activeElement;
    if (element === null) return '';
    return element.getAttribute('data-testid') ?? (element.tagName.toLowerCase() + ':' + (element.getAttribute('aria-label') ?? element.textContent ?? '').trim());
  })()`);
}

/** Presses Tab (Shift+Tab with `back`) until the focused element is `testId`; fails after `max` presses. */
async function tabTo(page: Page, testId: string, options: { back?: boolean; max?: number } = {}): Promise<void> {
  const seen: string[] = [];
  for (let press = 0; press < (options.max ?? 40); press++) {
    const now = await focused(page);
    if (now === testId) return;
    seen.push(now);
    await page.keyboard.press(options.back === true ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached ${testId}; focus went through: ${seen.join(' → ')}`);
}

/** The focused element's visible focus ring: its outline (or box-shadow) and opacity as computed. */
function focusRing(page: Page): Promise<{ outline: string; shadow: string; opacity: string }> {
  return page.evaluate(`(() => {
    const style = getComputedStyle(document.activeElement);
    return { outline: style.outlineStyle + ' ' + style.outlineWidth, shadow: style.boxShadow, opacity: style.opacity };
  })()`);
}

describe('the web console by keyboard and screen reader (issue 16)', () => {
  let lab: Lab;
  let cluster: LabCluster;
  let browser: LabBrowser;
  let token: string;

  before(async () => {
    if (!existsSync(RENDERER_INDEX)) throw new Error(`${RENDERER_INDEX} is missing: run \`npm run build:renderer\` (part of \`npm run build\`)`);
    lab = await createLab({ nodes: 2, clients: 1, rogue: true, name: 'console-a11y' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
    const specs = [
      { name: 'web', ip: `${lab.vip(1)}/24`, preferredOwners: ['n1'] },
      { name: 'db', ip: `${lab.vip(2)}/24`, preferredOwners: ['n2'] },
      { name: 'backup', ip: `${lab.vip(3)}/24`, enabled: false },
    ];
    for (const spec of specs) {
      const added = await cluster.api('n1', 'resource.add', { spec });
      assert.equal(added.ok, true, JSON.stringify(added));
    }
    await cluster.waitOwner('n1', 'web', 'n1');
    await cluster.waitOwner('n1', 'db', 'n2');
    // A conflict for the conflicts view: the rogue announces web's address.
    const send = await lab.run('r1', [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'announcement', '--ip', lab.vip(1)], { timeoutMs: 10_000 });
    assert.equal(send.code, 0, send.stderr);
    // A hook nobody answers: the Hooks tab shows its table with a delivery error.
    const hook = await cluster.cli(CONSOLE_NODE, ['hook', 'add', 'pager', '--on', '*', '--webhook', 'http://127.0.0.1:9/ipfo', '--timeout', '1']);
    assert.equal(hook.code, 0, hook.stderr);
    token = readFileSync(cluster.tokenFile(CONSOLE_NODE), 'utf8').trim();
    browser = await LabBrowser.launch(lab, CONSOLE_NODE);
  });

  after(() => closeConsoleLab({ browser, cluster, lab }));

  test('axe-core finds no serious or critical violation in any view, light and dark', async (t) => {
    const found: string[] = [];
    const check = async (page: Page, view: string, theme: ColorScheme): Promise<void> => {
      const violations = await audit(page, `${view} ${theme}`);
      t.diagnostic(`${view} ${theme}: ${violations.length} serious/critical`);
      found.push(...violations);
    };
    for (const theme of ['light', 'dark'] as const) {
      const page = await browser.openConsole({ token, colorScheme: theme, viewport: { width: 1280, height: 760 } });
      try {
        await page.getByTestId('resource-row-web').waitFor({ timeout: UI_TIMEOUT_MS });
        await check(page, 'resources', theme);
        for (const view of ['nodes', 'conflicts', 'events', 'hooks'] as const) {
          await page.getByTestId(`tab-${view}`).click();
          const ready = { nodes: '[data-testid="card-web"]', conflicts: '[data-testid^="conflict-row-"]', events: '[data-testid^="event-row-"]', hooks: '[data-testid="hook-row-pager"]' }[view];
          await page.locator(ready).first().waitFor({ timeout: UI_TIMEOUT_MS });
          await check(page, view, theme);
        }
        await page.getByTestId('tab-resources').click();
        await page.getByTestId('move-web').click();
        const move = page.getByTestId('move-dialog');
        await move.getByTestId('preflight-verdict').waitFor({ timeout: UI_TIMEOUT_MS });
        await check(page, 'move dialog', theme);
        await move.getByTestId('move-cancel').click();
        await move.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
        await page.getByTestId('new-resource').click();
        const form = page.getByTestId('resource-form');
        await form.getByTestId('field-name').fill('web');
        await form.getByTestId('field-ip').fill('10.213.0.300');
        await form.getByTestId('field-prefix').fill('33');
        await form.getByTestId('form-submit').click();
        await form.getByTestId('field-error-ip').waitFor({ timeout: UI_TIMEOUT_MS });
        await check(page, 'resource form with errors', theme);
      } finally {
        await page.context().close();
      }
      const desktop = await browser.openConsole({ token: '', colorScheme: theme, viewport: { width: 1280, height: 760 }, initScript: FAKE_DESKTOP_BRIDGE });
      try {
        await desktop.getByTestId('connection-screen').waitFor({ timeout: UI_TIMEOUT_MS });
        await desktop.getByTestId('remote-form').waitFor({ timeout: UI_TIMEOUT_MS });
        await check(desktop, 'connection screen', theme);
      } finally {
        await desktop.context().close();
      }
    }
    assert.deepEqual(found, []);
  });

  test('keyboard only (Tab, Enter, arrows): create a resource, move it, take it offline', async () => {
    const page = await browser.openConsole({ token });
    try {
      await page.getByTestId('resource-row-web').waitFor({ timeout: UI_TIMEOUT_MS });
      // Create: the toolbar's button, the form (its first field has the focus), Enter submits.
      await tabTo(page, 'new-resource');
      assert.notEqual((await focusRing(page)).outline.split(' ')[0], 'none', 'no focus ring on New resource');
      await page.keyboard.press('Enter');
      const form = page.getByTestId('resource-form');
      await form.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await focused(page), 'field-name');
      await page.keyboard.type('kbd');
      await tabTo(page, 'field-ip');
      await page.keyboard.type(lab.vip(9));
      await tabTo(page, 'field-prefix');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('24');
      await page.keyboard.press('Enter');
      await form.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
      const from = await waitUntil(async () => {
        const view = (await cluster.status('n2')).resources.find((r) => r.name === 'kbd');
        return view?.state === 'online' && typeof view.owner === 'string' ? view.owner : null;
      }, 20_000, 'kbd online');
      const to = from === 'n1' ? 'n2' : 'n1';

      // Move: the table takes the focus, the arrows select kbd, Tab reaches its Move button (a roving tab index).
      await tabTo(page, 'resource-table');
      await waitUntil(async () => {
        if ((await page.getByTestId('resource-table').getAttribute('aria-activedescendant')) === 'resource-row-kbd') return true;
        await page.keyboard.press('ArrowDown');
        return false;
      }, UI_TIMEOUT_MS, 'kbd selected with the arrow keys');
      // Tab goes on through the sort buttons of the header, then the selected row's buttons.
      await tabTo(page, 'move-kbd', { max: 12 });
      const ring = await focusRing(page);
      assert.equal(ring.opacity, '1', 'the focused Move button is not visible');
      assert.notEqual(ring.outline.split(' ')[0], 'none', 'no focus ring on Move');
      await page.keyboard.press('Enter');
      const dialog = page.getByTestId('move-dialog');
      await dialog.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await focused(page), 'move-target');
      await waitUntil(async () => {
        if ((await dialog.getByTestId('move-target').inputValue()) === to) return true;
        await page.keyboard.press('ArrowDown');
        return false;
      }, UI_TIMEOUT_MS, `${to} chosen with the arrow keys`);
      await dialog.getByTestId('preflight-verdict').waitFor({ timeout: UI_TIMEOUT_MS });
      await tabTo(page, 'move-confirm');
      await page.keyboard.press('Enter');
      const result = dialog.getByTestId('move-result');
      await result.waitFor({ timeout: 30_000 });
      assert.equal(await result.getAttribute('data-outcome'), 'done', await result.innerText());
      await waitUntil(async () => (await focused(page)) === 'move-close', 2000, 'the focus on Close after the move');
      await page.keyboard.press('Enter');
      await dialog.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
      await waitUntil(async () => (await cluster.status('n2')).resources.find((r) => r.name === 'kbd')?.owner === to, UI_TIMEOUT_MS, `kbd on ${to}`);

      // Offline: the row's "⋯" menu, its items by the arrow keys.
      await tabTo(page, 'resource-table');
      assert.equal(await page.getByTestId('resource-table').getAttribute('aria-activedescendant'), 'resource-row-kbd');
      await tabTo(page, 'actions-kbd', { max: 12 });
      assert.equal((await focusRing(page)).opacity, '1', 'the focused "⋯" button is not visible');
      await page.keyboard.press('Enter');
      const menu = page.getByRole('menu');
      await menu.waitFor({ timeout: UI_TIMEOUT_MS });
      await waitUntil(async () => {
        if ((await focused(page)) === 'menu-offline') return true;
        await page.keyboard.press('ArrowDown');
        return false;
      }, UI_TIMEOUT_MS, 'Take offline focused with the arrow keys');
      await page.keyboard.press('Enter');
      await waitUntil(async () => (await cluster.status('n2')).resources.find((r) => r.name === 'kbd')?.state === 'offline', 20_000, 'kbd offline');
      await waitUntil(async () => (await page.getByTestId('resource-row-kbd').getAttribute('data-state')) === 'offline', UI_TIMEOUT_MS, 'kbd offline in the table');
    } finally {
      await page.context().close();
    }
  });
});
