// Issue 14 §2 acceptance, the console side of groups: in Debian's Chromium (playwright-core) against a
// real three-node cluster (etcd on c1, `ipfo agent` on n1..n3), a group made through the API shows in
// the Resources table as a collapsible row above its members, and on the Nodes board as one card that
// a real drag moves as a unit (group.move) — only onto a node that may hold every member.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { closeConsoleLab, LabBrowser, waitUntil } from './browser';

const RENDERER_INDEX = join(__dirname, '..', '..', '..', 'renderer', 'dist', 'index.html');
const UI_TIMEOUT_MS = 10_000;
const CONSOLE_NODE = 'n1';
const GROUP = 'gw';

async function showTab(page: Page, tab: 'resources' | 'nodes'): Promise<void> {
  await page.getByTestId(`tab-${tab}`).click();
  await waitUntil(async () => (await page.getByTestId(`tab-${tab}`).getAttribute('aria-selected')) === 'true', UI_TIMEOUT_MS, `tab ${tab} selected`);
}

/** The aria-rowindex of a table row, by test id. */
async function rowIndex(page: Page, testId: string): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute('aria-rowindex'));
}

describe('groups in the web console (Chromium, three-node lab cluster)', () => {
  let lab: Lab;
  let cluster: LabCluster;
  let browser: LabBrowser;
  let page: Page;
  const pageErrors: string[] = [];

  /** Each resource's owner and state according to `ipfo status --json` on n3 (not the console's agent). */
  async function owners(): Promise<Record<string, string>> {
    const status = await cluster.status('n3');
    return Object.fromEntries(status.resources.map((r) => [String(r.name), `${String(r.owner)}/${String(r.state)}`]));
  }

  before(async () => {
    if (!existsSync(RENDERER_INDEX)) throw new Error(`${RENDERER_INDEX} is missing: run \`npm run build:renderer\` (part of \`npm run build\`)`);
    lab = await createLab({ nodes: 3, clients: 1, name: 'console-groups' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
    // inside may live on n1 and n2 only: the group as a whole may not go to n3.
    const specs = [
      { name: 'inside', ip: `${lab.vip(1)}/24`, possibleOwners: ['n1', 'n2'], preferredOwners: ['n1'] },
      { name: 'outside', ip: `${lab.vip(2)}/24`, preferredOwners: ['n1'] },
      { name: 'web', ip: `${lab.vip(3)}/24`, preferredOwners: ['n3'] },
    ];
    for (const spec of specs) {
      const added = await cluster.api('n1', 'resource.add', { spec });
      assert.equal(added.ok, true, JSON.stringify(added));
    }
    const grouped = await cluster.api('n1', 'group.add', { name: GROUP, resources: ['inside', 'outside'] });
    assert.equal(grouped.ok, true, JSON.stringify(grouped));
    for (const [name, owner] of [['inside', 'n1'], ['outside', 'n1'], ['web', 'n3']] as const) await cluster.waitOwner('n1', name, owner);
    const token = readFileSync(cluster.tokenFile(CONSOLE_NODE), 'utf8').trim();
    browser = await LabBrowser.launch(lab, CONSOLE_NODE);
    page = await browser.openConsole({ token });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.getByTestId(`group-row-${GROUP}`).waitFor({ timeout: UI_TIMEOUT_MS });
  });

  after(() => closeConsoleLab({ browser, cluster, lab }));

  test('the table shows the group as a row above both members: count, node, state', async () => {
    const row = page.getByTestId(`group-row-${GROUP}`);
    assert.match(await row.getByTestId('group-count').innerText(), /2 addresses/i);
    assert.equal((await row.getByTestId('owner').innerText()).trim(), 'n1');
    assert.match(await row.getByTestId('state').innerText(), /online/i, 'the summary state in words');
    const toggle = page.getByTestId(`group-toggle-${GROUP}`);
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true', 'expanded by default');
    // Its members come right after it, in the table's order (name), and say which group they are in.
    const at = await rowIndex(page, `group-row-${GROUP}`);
    assert.equal(await rowIndex(page, 'resource-row-inside'), at + 1);
    assert.equal(await rowIndex(page, 'resource-row-outside'), at + 2);
    for (const member of ['inside', 'outside']) assert.equal(await page.getByTestId(`resource-row-${member}`).getAttribute('data-group'), GROUP);
    assert.equal(await page.getByTestId('resource-row-web').getAttribute('data-group'), null, 'web is in no group');
  });

  test('the group row collapses (members hidden) and expands again from the keyboard', async () => {
    const toggle = page.getByTestId(`group-toggle-${GROUP}`);
    await toggle.click();
    await waitUntil(async () => (await toggle.getAttribute('aria-expanded')) === 'false', UI_TIMEOUT_MS, 'the toggle to say collapsed');
    await waitUntil(async () => (await page.getByTestId('resource-row-inside').count()) === 0, UI_TIMEOUT_MS, 'inside hidden');
    assert.equal(await page.getByTestId('resource-row-outside').count(), 0, 'outside hidden');
    assert.equal(await page.getByTestId('resource-row-web').count(), 1, 'a resource outside the group stays');
    assert.equal(await page.getByRole('button', { name: `Group ${GROUP}` }).getAttribute('aria-expanded'), 'false', 'the toggle is a named button');
    // The toggle is a real button that keeps the focus: Enter on it expands the group.
    await toggle.focus();
    await page.keyboard.press('Enter');
    await waitUntil(async () => (await toggle.getAttribute('aria-expanded')) === 'true', UI_TIMEOUT_MS, 'the toggle to say expanded');
    await page.getByTestId('resource-row-inside').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.getByTestId('resource-row-outside').waitFor({ timeout: UI_TIMEOUT_MS });
    // And from the grid: the arrows select the group row, Left folds it, Right unfolds it.
    await page.getByTestId('resource-table').focus();
    await page.keyboard.press('Home');
    await waitUntil(async () => (await page.getByTestId(`group-row-${GROUP}`).getAttribute('aria-selected')) === 'true', UI_TIMEOUT_MS, 'the group row selected');
    await page.keyboard.press('ArrowLeft');
    await waitUntil(async () => (await page.getByTestId('resource-row-inside').count()) === 0, UI_TIMEOUT_MS, 'inside hidden by ArrowLeft');
    await page.keyboard.press('ArrowRight');
    await page.getByTestId('resource-row-inside').waitFor({ timeout: UI_TIMEOUT_MS });
  });

  test('on the board the group is one card; a node that may not hold every member refuses the drop', async () => {
    await showTab(page, 'nodes');
    const card = page.getByTestId(`node-n1`).getByTestId(`group-card-${GROUP}`);
    await card.waitFor({ timeout: UI_TIMEOUT_MS });
    assert.equal(await card.getByTestId('card-inside').count(), 1);
    assert.equal(await card.getByTestId('card-outside').count(), 1);
    assert.equal(await card.getAttribute('draggable'), 'true');
    // n3 is not a possible owner of inside: the drop opens nothing and moves nothing.
    await card.dragTo(page.getByTestId('node-n3'));
    await page.waitForTimeout(500);
    assert.equal(await page.locator('dialog[open]').count(), 0, 'a dialog opened for a refused drop');
    const now = await owners();
    assert.equal(now.inside, 'n1/online');
    assert.equal(now.outside, 'n1/online');
  });

  test('a drag of the group card onto n2 moves both addresses there together', async () => {
    const card = page.getByTestId('node-n1').getByTestId(`group-card-${GROUP}`);
    await card.dragTo(page.getByTestId('node-n2'));
    // The drop opens the group's move dialog preset to the column's node.
    const dialog = page.getByTestId('group-move-dialog');
    await dialog.waitFor({ timeout: UI_TIMEOUT_MS });
    assert.equal(await dialog.getByTestId('group-move-target').inputValue(), 'n2');
    await dialog.getByTestId('group-move-confirm').click();
    const result = dialog.getByTestId('group-move-result');
    await result.waitFor({ timeout: 30_000 });
    const outcome = await result.getAttribute('data-outcome');
    assert.notEqual(outcome, 'failed', await result.innerText());
    await dialog.getByTestId('group-move-close').click().catch(() => page.keyboard.press('Escape'));

    // The cluster: both online on n2 (ipfo status on another node), the kernel addresses moved.
    await waitUntil(async () => {
      const now = await owners();
      return now.inside === 'n2/online' && now.outside === 'n2/online';
    }, 20_000, 'inside and outside online on n2 in ipfo status');
    const onN2 = await lab.addresses('n2');
    const onN1 = await lab.addresses('n1');
    for (const vip of [lab.vip(1), lab.vip(2)]) {
      assert.ok(onN2.includes(`${vip}/24`), `${vip} not on n2: ${onN2.join(' ')}`);
      assert.ok(!onN1.includes(`${vip}/24`), `${vip} still on n1`);
    }
    assert.equal((await owners()).web, 'n3/online', 'web, in no group, stayed');

    // The console: the group card in n2's column with both members, none left on n1.
    const moved = page.getByTestId('node-n2').getByTestId(`group-card-${GROUP}`);
    await moved.waitFor({ timeout: UI_TIMEOUT_MS });
    assert.equal(await moved.getByTestId('card-inside').count(), 1);
    assert.equal(await moved.getByTestId('card-outside').count(), 1);
    assert.equal(await page.getByTestId('node-n1').getByTestId(`group-card-${GROUP}`).count(), 0, 'the group still drawn on n1');
    // And the table's group row says where it is now.
    await showTab(page, 'resources');
    const row = page.getByTestId(`group-row-${GROUP}`);
    await waitUntil(async () => (await row.getByTestId('owner').innerText()).trim() === 'n2', UI_TIMEOUT_MS, 'the group row on n2');
    for (const member of ['inside', 'outside']) assert.equal((await page.getByTestId(`resource-row-${member}`).getByTestId('owner').innerText()).trim(), 'n2');
  });

  test('a viewer sees the group but cannot drag or move it', async () => {
    const run = await cluster.cli(CONSOLE_NODE, ['user', 'add', 'viewer1', '--role', 'viewer', '--json']);
    assert.equal(run.code, 0, `ipfo user add: ${run.stderr}`);
    const credential = (JSON.parse(run.stdout) as { credential: string }).credential;
    const viewer = await browser.openConsole({ token: credential });
    try {
      await viewer.getByTestId(`group-row-${GROUP}`).waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await viewer.getByTestId(`move-group-${GROUP}`).count(), 0, 'a Move group button');
      // Folding is reading, not changing: a viewer may still collapse the group.
      await viewer.getByTestId(`group-toggle-${GROUP}`).click();
      await waitUntil(async () => (await viewer.getByTestId('resource-row-inside').count()) === 0, UI_TIMEOUT_MS, 'collapsed for the viewer');
      await showTab(viewer, 'nodes');
      const card = viewer.getByTestId(`group-card-${GROUP}`);
      await card.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await card.getAttribute('draggable'), null, 'a viewer can drag the group');
      assert.equal(await card.getAttribute('tabindex'), null, 'the group card takes a viewer\'s focus');
      await card.dblclick();
      assert.equal(await viewer.locator('dialog[open]').count(), 0, 'a dialog opened');
    } finally {
      await viewer.context().close();
    }
  });

  test('no page error', () => {
    assert.deepEqual(pageErrors, []);
  });
});
