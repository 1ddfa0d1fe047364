// Issue 4 acceptance, the web console in a real browser: Debian's Chromium (playwright-core) in n1's
// namespace opens the console that n1's agent serves on its loopback, against a real three-node
// cluster (etcd on c2, `ipfo agent` on n1..n3), a client streaming to the addresses and a rogue.
// It also writes the README screenshots (docs/screenshots/<view>-<theme>.png).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { closeConsoleLab, LabBrowser, type ColorScheme } from './browser';
import { startUdpEcho, startUdpStream, type StreamReport } from './traffic';
import { waitForNeighborMac } from './neighbor-wait';
import { startTcpService } from './tcp-service';

const ARP_SEND = join(__dirname, 'tools', 'arp-send.js');
const API_CALL = join(__dirname, 'fixtures', 'api-call.js');
const SCREENSHOT_DIR = join(__dirname, '..', '..', '..', 'docs', 'screenshots');
const RENDERER_INDEX = join(__dirname, '..', '..', '..', 'renderer', 'dist', 'index.html');
const UI_TIMEOUT_MS = 10_000;
const CONSOLE_NODE = 'n1';

interface RowView {
  name: string;
  owner: string | null;
  state: string;
}

/** The lab's resources: enough for every state the screenshots should show. */
function resourceSpecs(lab: Lab) {
  return [
    { name: 'web', ip: `${lab.vip(1)}/24`, preferredOwners: ['n1'] },
    { name: 'db', ip: `${lab.vip(2)}/24`, preferredOwners: ['n2'] },
    { name: 'mail', ip: `${lab.vip(3)}/24`, preferredOwners: ['n3'] },
    { name: 'dns', ip: `${lab.vip(4)}/24`, preferredOwners: ['n1', 'n2'] },
    { name: 'backup', ip: `${lab.vip(5)}/24`, enabled: false },
  ];
}

async function waitUntil<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

function byTestId(testId: string): string {
  return `[data-testid=${JSON.stringify(testId)}]`;
}

/** What the resource table shows, one entry per row, by name. */
async function tableRows(page: Page): Promise<RowView[]> {
  const rows: RowView[] = [];
  for (const row of await page.locator('[data-testid^="resource-row-"]').all()) {
    const testId = (await row.getAttribute('data-testid')) ?? '';
    const owner = (await row.getByTestId('owner').innerText()).trim();
    const stateText = (await row.getByTestId('state').innerText()).trim();
    const state = (await row.getAttribute('data-state')) ?? '';
    // The state is shown as text, not colour alone: a settled state's word is in the cell.
    if (['online', 'offline', 'failed'].includes(state)) assert.match(stateText, new RegExp(state, 'i'), `state cell of ${testId}`);
    rows.push({ name: testId.slice('resource-row-'.length), owner: /^[a-z0-9]/i.test(owner) ? owner : null, state });
  }
  return rows.sort((a, b) => (a.name < b.name ? -1 : 1));
}

async function ownerInTable(page: Page, resource: string): Promise<string> {
  return (await page.getByTestId(`resource-row-${resource}`).getByTestId('owner').innerText()).trim();
}

async function showTab(page: Page, tab: 'resources' | 'nodes' | 'conflicts' | 'events'): Promise<void> {
  await page.getByTestId(`tab-${tab}`).click();
  await waitUntil(async () => (await page.getByTestId(`tab-${tab}`).getAttribute('aria-selected')) === 'true', UI_TIMEOUT_MS, `tab ${tab} selected`);
}

/** Resolves with the page's wall-clock time (same host clock as the test) at which `testId` is first in the DOM. */
function appearanceTime(page: Page, testId: string, timeoutMs: number): Promise<number> {
  const selector = JSON.stringify(byTestId(testId));
  // A string, evaluated in the page: the test's own tsconfig has no DOM types.
  return page.evaluate<number>(`new Promise((resolve, reject) => {
    const selector = ${selector};
    if (document.querySelector(selector)) return resolve(Date.now());
    const observer = new MutationObserver(() => {
      if (!document.querySelector(selector)) return;
      observer.disconnect();
      resolve(Date.now());
    });
    observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-testid'] });
    setTimeout(() => { observer.disconnect(); reject(new Error('not shown within ${timeoutMs} ms')); }, ${timeoutMs});
  })`);
}

/**
 * In an open move dialog: chooses `target` (or checks that the dialog preset it), waits for the pre-flight, confirms, waits for the
 * outcome and closes the dialog. Returns the pre-flight verdict and the outcome. The dialog is
 * closed also when something fails, so one failure does not block the next test's clicks.
 */
async function confirmMove(page: Page, target: string, options: { select: boolean }): Promise<{ verdict: string | null; probedOn: string | null; outcome: string | null; text: string }> {
  const dialog = page.getByTestId('move-dialog');
  try {
    await dialog.waitFor({ timeout: UI_TIMEOUT_MS });
    if (options.select) await dialog.getByTestId('move-target').selectOption(target);
    const chosen = await dialog.getByTestId('move-target').inputValue();
    assert.equal(chosen, target, 'the target in the move dialog');
    const verdict = dialog.getByTestId('preflight-verdict');
    await verdict.waitFor({ timeout: UI_TIMEOUT_MS });
    await dialog.getByTestId('move-confirm').click({ timeout: UI_TIMEOUT_MS });
    const result = dialog.getByTestId('move-result');
    await result.waitFor({ timeout: 30_000 });
    const answer = { verdict: await verdict.getAttribute('data-verdict'), probedOn: await verdict.getAttribute('data-node'), outcome: await result.getAttribute('data-outcome'), text: await result.innerText() };
    await dialog.getByTestId('move-close').click({ timeout: UI_TIMEOUT_MS });
    return answer;
  } catch (error) {
    const shown = await dialog.innerText({ timeout: 1000 }).catch(() => '(no dialog)');
    throw new Error(`move to ${target} through the dialog: ${error instanceof Error ? error.message : String(error)}\ndialog: ${shown}`, { cause: error });
  } finally {
    await closeDialogs(page);
  }
}

/** Escape closes any dialog still open (the console's dialogs close on cancel). */
async function closeDialogs(page: Page): Promise<void> {
  for (let attempt = 0; attempt < 3 && (await page.locator('dialog[open]').count()) > 0; attempt++) {
    await page.keyboard.press('Escape');
    await page.locator('dialog[open]').first().waitFor({ state: 'detached', timeout: 2000 }).catch(() => undefined);
  }
}

describe('the web console in Chromium against a three-node lab cluster', () => {
  let lab: Lab;
  let cluster: LabCluster;
  let browser: LabBrowser;
  let page: Page;
  let token: string;
  const pageErrors: string[] = [];
  /** Addresses the rogue has announced (each conflict is measured on a fresh address). */
  const claimed = new Set<string>();

  before(async () => {
    // The agent serves the console only when the renderer is built; say so instead of timing out.
    if (!existsSync(RENDERER_INDEX)) throw new Error(`${RENDERER_INDEX} is missing: run \`npm run build:renderer\` (part of \`npm run build\`)`);
    lab = await createLab({ nodes: 3, clients: 2, rogue: true, name: 'console-e2e' });
    for (const node of lab.nodes) await startUdpEcho(lab, node);
    cluster = await LabCluster.start(lab, { etcdHost: 'c2' });
    for (const spec of resourceSpecs(lab)) {
      const added = await cluster.api('n1', 'resource.add', { spec });
      assert.equal(added.ok, true, JSON.stringify(added));
    }
    for (const [name, owner] of [['web', 'n1'], ['db', 'n2'], ['mail', 'n3'], ['dns', 'n1']] as const) await cluster.waitOwner('n1', name, owner);
    token = readFileSync(cluster.tokenFile(CONSOLE_NODE), 'utf8').trim();
    browser = await LabBrowser.launch(lab, CONSOLE_NODE);
    page = await browser.openConsole({ token });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.getByTestId('resource-row-web').waitFor({ timeout: UI_TIMEOUT_MS });
  });

  after(() => closeConsoleLab({ browser, cluster, lab }));

  test('the resource list matches `ipfo status --json`: names, owners, states', async () => {
    const status = await cluster.status('n2');
    const expected = status.resources
      .map((r) => ({ name: String(r.name), owner: typeof r.owner === 'string' ? r.owner : null, state: String(r.state) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    assert.deepEqual(expected.map((r) => r.name), ['backup', 'db', 'dns', 'mail', 'web']);
    assert.ok(expected.some((r) => r.state === 'offline') && expected.some((r) => r.state === 'online'), JSON.stringify(expected));
    // The page follows the agent's stream; give it a moment to settle on the same revision.
    let shown: RowView[] = [];
    try {
      await waitUntil(async () => {
        shown = await tableRows(page);
        return JSON.stringify(shown) === JSON.stringify(expected);
      }, UI_TIMEOUT_MS, 'the table to match ipfo status');
    } finally {
      assert.deepEqual(shown, expected);
    }
    // The same count in the toolbar and the tab.
    assert.match(await page.getByTestId('resource-count').innerText(), /\b5\b/);
    // The rows came from the console's model in its worker (not the page's fallback copy).
    assert.ok(page.workers().some((worker) => /\/assets\/cluster-worker-[\w-]+\.js$/.test(worker.url())), `workers: ${page.workers().map((w) => w.url()).join(', ')}`);
  });

  test('a page that cannot start the worker keeps the model on the page and shows the same rows', async () => {
    const expected = (await cluster.status('n2')).resources
      .map((r) => ({ name: String(r.name), owner: typeof r.owner === 'string' ? r.owner : null, state: String(r.state) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    // As in a shell whose policy refuses workers: the constructor is not there.
    const noWorker = await browser.openConsole({ token, initScript: 'Object.defineProperty(window, "Worker", { value: undefined })' });
    try {
      let shown: RowView[] = [];
      await waitUntil(async () => {
        shown = await tableRows(noWorker);
        return JSON.stringify(shown) === JSON.stringify(expected);
      }, UI_TIMEOUT_MS, 'the table without a worker to match ipfo status').catch((error: unknown) => {
        throw new Error(`${String(error)}: shown ${JSON.stringify(shown)}`);
      });
      assert.deepEqual(noWorker.workers().map((worker) => worker.url()), []);
    } finally {
      await noWorker.context().close();
    }
  });

  /** The owner of an online resource according to `ipfo status --json`. */
  async function onlineOwner(resource: string): Promise<string> {
    const view = (await cluster.status('n2')).resources.find((r) => r.name === resource);
    assert.ok(view?.state === 'online' && typeof view.owner === 'string', `${resource} is not online: ${JSON.stringify(view)}`);
    return view.owner;
  }

  /** Another node to move to, the next one in line after `owner`. */
  function nextNode(owner: string): string {
    const names = lab.nodes.map((n) => n.name);
    return names[(names.indexOf(owner) + 1) % names.length]!;
  }

  /**
   * Runs `move` (which moves `resource` from `from` to `to` through the UI) while c1 streams to its
   * address, then checks every witness: the table, `ipfo status`, the kernel address, the client's
   * neighbour entry and which node answered the client's datagrams last.
   */
  async function moveWithClient(resource: string, vip: string, from: string, to: string, move: () => Promise<void>): Promise<void> {
    const stream = startUdpStream(lab, 'c1', vip, { intervalMs: 5, pacing: 'sleep' });
    let stopped: Promise<StreamReport>;
    try {
      await stream.started;
      await waitForNeighborMac(lab, 'c1', vip, lab.host(from).mac, 2000);
      await move();
      await waitForNeighborMac(lab, 'c1', vip, lab.host(to).mac, 1000);
      const status = (await cluster.status('n3')).resources.find((r) => r.name === resource);
      assert.equal(status?.owner, to);
      assert.equal(status?.state, 'online');
      assert.ok((await lab.addresses(to)).includes(`${vip}/24`), `${vip} not on ${to}`);
      assert.ok(!(await lab.addresses(from)).includes(`${vip}/24`), `${vip} still on ${from}`);
      await showTab(page, 'resources');
      await waitUntil(async () => (await ownerInTable(page, resource)) === to, UI_TIMEOUT_MS, `${resource} owned by ${to} in the table`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      stopped = stream.stop();
      // A failure above is the one to report; the stream only has to end.
      stopped.catch(() => undefined);
      await stopped.catch(() => undefined);
    }
    const summary = await stopped;
    assert.equal(stream.owners.at(-1)?.host, to, `owners seen by the client: ${JSON.stringify(stream.owners)}`);
    assert.ok((summary.perHost[to] ?? 0) > 0, JSON.stringify(summary.perHost));
  }

  test('the pre-flight runs on the node that would take the address, forwarded by the console\'s agent', async () => {
    // backup is offline: nobody answers for it. web is online: only its owner answers, heard from n2 and n3.
    const free = await cluster.api(CONSOLE_NODE, 'probe', { node: 'n2', ip: lab.vip(5) });
    assert.equal(free.ok, true, JSON.stringify(free));
    assert.deepEqual({ ...(free.result as { node: string; verdict: string; answeredBy: string[] }), durationMs: 0 }, { node: 'n2', ip: lab.vip(5), verdict: 'free', answeredBy: [], ownerMac: null, durationMs: 0 });
    const owner = await onlineOwner('web');
    for (const node of lab.nodes.map((n) => n.name).filter((name) => name !== owner)) {
      const heard = await cluster.api(CONSOLE_NODE, 'probe', { node, ip: lab.vip(1) });
      assert.equal(heard.ok, true, JSON.stringify(heard));
      const result = heard.result as { node: string; verdict: string; answeredBy: string[]; ownerMac: string };
      assert.equal(result.node, node);
      assert.equal(result.verdict, 'owner-only', JSON.stringify(result));
      assert.deepEqual(result.answeredBy, [lab.host(owner).mac]);
      assert.equal(result.ownerMac, lab.host(owner).mac);
    }
    const unknown = await cluster.api(CONSOLE_NODE, 'probe', { node: 'n9', ip: lab.vip(1) });
    assert.equal(unknown.ok, false);
    assert.equal(unknown.code, 'not-found', JSON.stringify(unknown));
  });

  test('a move by click (row → dialog → node → confirm) changes the owner; the client follows', async () => {
    const from = await onlineOwner('web');
    const to = nextNode(from);
    await moveWithClient('web', lab.vip(1), from, to, async () => {
      await showTab(page, 'resources');
      await page.getByTestId('move-web').click();
      const move = await confirmMove(page, to, { select: true });
      // The pre-flight: the target (not the console's agent, n1) probed the address and heard only the owner.
      assert.notEqual(to, CONSOLE_NODE);
      assert.equal(move.verdict, 'owner-only', move.text);
      assert.equal(move.probedOn, to);
      assert.equal(move.outcome, 'done', move.text);
    });
  });

  test('Announce now from a row\'s menu: the holder announces at once, a client\'s stale ARP entry follows, the audit log has it', async () => {
    const mail = (await cluster.status('n2')).resources.find((r) => r.name === 'mail');
    assert.ok(mail?.state === 'online' && typeof mail.owner === 'string' && typeof mail.ip === 'string', JSON.stringify(mail));
    const ownerMac = cluster.host(mail.owner).mac;
    // c2 sends nothing to the address, so only an announcement can repair its entry.
    await lab.setNeighbor('c2', mail.ip, '02:de:ad:00:00:02', 'stale');
    await showTab(page, 'resources');
    await page.getByTestId('resource-row-mail').click({ button: 'right' });
    await page.getByRole('menuitem', { name: /Announce now/ }).click();
    await waitForNeighborMac(lab, 'c2', mail.ip, ownerMac, 3_000);
    const events = await cluster.cli('n3', ['events', '--action', 'resource.announce', '--target', 'mail', '--json']);
    const entries = events.stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { outcome: string; detail: string });
    assert.equal(entries.length, 1, events.stdout);
    assert.match(entries[0]!.detail, new RegExp(`announced from ${mail.owner} lan0 \\(${ownerMac}\\)`));
  });

  test('health checks: the Health cell turns red when the service dies on the owner and the address moves to where it runs', async () => {
    const port = 18_081;
    const services = new Map([['n2', await startTcpService(lab, 'n2', port)], ['n3', await startTcpService(lab, 'n3', port)]]);
    try {
      const health = { checks: [{ kind: 'tcp' as const, host: '127.0.0.1', port }], intervalMs: 300, timeoutMs: 200, fall: 2, rise: 2 };
      const added = await cluster.api('n1', 'resource.add', { spec: { name: 'api', ip: `${lab.vip(60)}/24`, preferredOwners: ['n2', 'n3'], health } });
      assert.equal(added.ok, true, JSON.stringify(added));
      await cluster.waitOwner('n1', 'api', 'n2');
      await showTab(page, 'resources');
      const row = page.getByTestId('resource-row-api');
      const cell = row.getByTestId('health');
      const apiCell = (testid: string): string => `document.querySelector('[data-testid="resource-row-api"] [data-testid="${testid}"]')`;
      await page.waitForFunction(`${apiCell('health')}?.getAttribute('data-health') === 'health-passing'`, undefined, { timeout: UI_TIMEOUT_MS });
      assert.equal(await cell.innerText(), 'Passing');
      // Every verdict the cell shows from here on, with the owner beside it (the red one may last only until the move).
      await page.evaluate(`(() => {
        const seen = [];
        window.healthSeen = seen;
        const record = () => {
          const entry = (${apiCell('health')}?.getAttribute('data-health') ?? 'gone') + '@' + (${apiCell('owner')}?.textContent ?? '');
          if (seen.at(-1) !== entry) seen.push(entry);
        };
        new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
        record();
      })()`);
      await services.get('n2')!.kill();
      await cluster.waitOwner('n1', 'api', 'n3');
      await page.waitForFunction(`${apiCell('owner')}?.textContent === 'n3'`, undefined, { timeout: UI_TIMEOUT_MS });
      await page.waitForFunction(`${apiCell('health')}?.getAttribute('data-health') === 'health-passing'`, undefined, { timeout: UI_TIMEOUT_MS });
      const seen = await page.evaluate<string[]>('window.healthSeen');
      assert.ok(seen.includes('health-failing@n2'), `the cell went red on n2 before the move: ${seen.join(' → ')}`);
      assert.equal(seen.at(-1), 'health-passing@n3', seen.join(' → '));
      assert.match((await cell.getAttribute('title')) ?? '', /passes on n3/);
      // The nodes board says which node fails its checks, and why.
      await showTab(page, 'nodes');
      const n2Health = page.getByTestId('node-health-n2');
      await n2Health.filter({ hasText: 'failing' }).waitFor({ timeout: UI_TIMEOUT_MS });
      assert.match(await n2Health.innerText(), /connection refused/);
      // Dead everywhere: it stays on n3, and the cell stays red and says so.
      await services.get('n3')!.kill();
      await showTab(page, 'resources');
      await cell.filter({ hasText: 'Failing · stays' }).waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await row.getByTestId('owner').innerText(), 'n3');
      assert.match((await cell.getAttribute('title')) ?? '', /no other node passes: it stays on n3/);
    } finally {
      for (const service of services.values()) await service.kill();
      await cluster.api('n1', 'resource.remove', { name: 'api' });
    }
  });

  test('failure policy: a node banned from an address is named in its Health cell; Clean up failures from the row menu lifts the ban', async () => {
    // n2 has no interface nosuch0: with no retries it is banned at once, and n3 takes the address.
    const added = await cluster.api('n1', 'resource.add', { spec: { name: 'vlan', ip: `${lab.vip(64)}/24`, preferredOwners: ['n2', 'n3'], interfaces: { n2: 'nosuch0' }, retries: 0 } });
    assert.equal(added.ok, true, JSON.stringify(added));
    try {
      await cluster.waitOwner('n1', 'vlan', 'n3');
      await showTab(page, 'resources');
      const row = page.getByTestId('resource-row-vlan');
      const cell = row.getByTestId('health');
      await cell.filter({ hasText: 'n2 banned' }).waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await cell.getAttribute('title'), 'banned on n2: interface missing on n2: no interface nosuch0 on n2');
      await row.click({ button: 'right' });
      await page.getByRole('menuitem', { name: /Clean up failures/ }).click();
      // The ban is gone from n2's record: the cell says nothing more, and the audit log says what went where.
      await cell.filter({ hasText: '—' }).waitFor({ timeout: UI_TIMEOUT_MS });
      const entries = await waitUntil(async () => {
        const run = await cluster.cli('n3', ['events', '--action', 'resource.cleanup', '--target', 'vlan', '--json']);
        const lines = run.stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { actor: string; detail: string });
        return lines.length > 0 && lines;
      }, UI_TIMEOUT_MS, 'the cleanup in the audit log');
      assert.match(entries[0]!.detail, /n2: ban lifted, 1 failover mark dropped/);
      assert.equal(await row.getByTestId('owner').innerText(), 'n3', 'no failback: it stays where it is');
    } finally {
      await cluster.api('n1', 'resource.remove', { name: 'vlan' });
    }
  });

  test('Pause asks first and previews the drain exactly as `ipfo plan --pause` does; Cancel pauses nothing', async () => {
    const node = 'n3';
    const run = await cluster.cli('n2', ['plan', '--pause', node, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const planned = JSON.parse(run.stdout) as { moves: Array<{ resource: string; to: string }>; stays: Array<{ resource: string; node: string; why: string }> };
    assert.ok(planned.moves.length > 0, run.stdout);
    await showTab(page, 'nodes');
    await page.getByTestId(`pause-${node}`).click();
    const preview = page.getByTestId('pause-preview');
    await preview.waitFor({ timeout: UI_TIMEOUT_MS });
    const shown = (await preview.locator('li').allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim()).sort();
    const expected = [...planned.moves.map((m) => `${m.resource} → ${m.to}`), ...planned.stays.map((s) => `${s.resource} stays on ${s.node}: ${s.why}`)].sort();
    assert.deepEqual(shown, expected);
    await page.getByTestId('confirm-cancel').click();
    await preview.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const nodes = (await cluster.status('n1')).nodes;
    assert.equal(nodes.find((n) => n.name === node)?.state, 'up', 'Cancel paused nothing');
  });

  test('a move by drag (card onto another node column) changes the owner; the client follows', async () => {
    const from = await onlineOwner('db');
    const to = nextNode(from);
    await moveWithClient('db', lab.vip(2), from, to, async () => {
      await showTab(page, 'nodes');
      const card = page.getByTestId(`node-${from}`).getByTestId('card-db');
      await card.waitFor({ timeout: UI_TIMEOUT_MS });
      await card.dragTo(page.getByTestId(`node-${to}`));
      // The drop opens the move dialog preset to the column's node, with its pre-flight.
      const move = await confirmMove(page, to, { select: false });
      assert.equal(move.verdict, 'owner-only', move.text);
      assert.equal(move.probedOn, to);
      assert.equal(move.outcome, 'done', move.text);
      await page.getByTestId(`node-${to}`).getByTestId('card-db').waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await page.getByTestId(`node-${from}`).getByTestId('card-db').count(), 0, `db still drawn on ${from}`);
    });
  });

  /** An online resource whose owner passes `test` (the rogue has not claimed it yet). */
  async function resourceHeldBy(test: (owner: string) => boolean): Promise<{ name: string; ip: string }> {
    const status = await cluster.status('n2');
    const found = status.resources.find((r) => r.state === 'online' && typeof r.owner === 'string' && test(r.owner) && !claimed.has(String(r.ip)));
    assert.ok(found !== undefined, `no online resource fits: ${JSON.stringify(status.resources)}`);
    claimed.add(String(found.ip));
    return { name: String(found.name), ip: String(found.ip) };
  }

  /**
   * The rogue announces `vip`; resolves with how long until the console showed the conflict row,
   * counted from arp-send's clock reading right after its synchronous send (`afterSend`) and, as an
   * upper bound that includes starting Node and pcap, from the moment the test spawned it (`afterSpawn`).
   */
  async function rogueConflictLag(vip: string): Promise<{ afterSend: number; afterSpawn: number }> {
    const rogueMac = lab.host('r1').mac;
    const rowId = `conflict-row-${vip}-${rogueMac}`;
    await showTab(page, 'conflicts');
    assert.equal(await page.getByTestId(rowId).count(), 0, 'the conflict is shown before the rogue sent anything');
    const shown = appearanceTime(page, rowId, 5_000);
    shown.catch(() => undefined);
    const spawnedAt = Date.now();
    const send = await lab.run('r1', [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'announcement', '--ip', vip], { timeoutMs: 10_000 });
    assert.equal(send.code, 0, send.stderr);
    // arp-send reads the clock right after its (synchronous) send.
    const sentAt = (JSON.parse(send.stdout.trim().split('\n').at(-1) ?? '{}') as { at?: number }).at;
    assert.equal(typeof sentAt, 'number', send.stdout);
    const shownAt = await shown;
    const row = page.getByTestId(rowId);
    assert.equal((await row.getByTestId('address').innerText()).trim(), vip);
    assert.equal((await row.getByTestId('their-mac').innerText()).trim(), rogueMac);
    return { afterSend: shownAt - sentAt!, afterSpawn: shownAt - spawnedAt };
  }

  function describeLag(lag: { afterSend: number; afterSpawn: number }): string {
    // Negative when the sender was descheduled between its send and its clock reading (2 CPUs, busy).
    return `conflict row shown ${lag.afterSend} ms after arp-send's post-send clock reading, at most ${lag.afterSpawn} ms after the test started arp-send`;
  }

  test('the rogue announcing an address of the console\'s node appears in the conflict view within a second', async (t) => {
    const held = await resourceHeldBy((owner) => owner === CONSOLE_NODE);
    const lag = await rogueConflictLag(held.ip);
    t.diagnostic(`${held.name} (${held.ip}): ${describeLag(lag)}`);
    assert.ok(lag.afterSend < 1000, `conflict shown ${lag.afterSend} ms after the announcement`);
  });

  // The holder records the conflict in the cluster's audit log; the console's agent learns it from the store.
  test('the rogue announcing an address held by another node appears in the conflict view within a second', async (t) => {
    const held = await resourceHeldBy((owner) => owner !== CONSOLE_NODE);
    const lag = await rogueConflictLag(held.ip);
    t.diagnostic(`${held.name} (${held.ip}): ${describeLag(lag)}`);
    assert.ok(lag.afterSend < 1000, `conflict shown ${lag.afterSend} ms after the announcement`);
  });

  test('form errors show for bad input and nothing is created', async () => {
    const before = await cluster.status('n3');
    const cases: Array<{ what: string; values: Record<string, string> & { name: string }; field: string; mentions?: string }> = [
      { what: 'a bad IP', values: { name: 'bad-ip', ip: lab.vip(60).replace(/\d+$/, '300'), prefix: '24' }, field: 'ip' },
      { what: 'prefix 33', values: { name: 'bad-prefix', ip: lab.vip(61), prefix: '33' }, field: 'prefix' },
      { what: 'an unknown owner node', values: { name: 'bad-owner', ip: lab.vip(62), prefix: '24', possibleOwners: 'n1, n9' }, field: 'possibleOwners', mentions: 'n9' },
      { what: 'a duplicate name', values: { name: 'web', ip: lab.vip(63), prefix: '24' }, field: 'name' },
    ];
    await showTab(page, 'resources');
    for (const attempt of cases) {
      try {
        await page.getByTestId('new-resource').click();
        const form = page.getByTestId('resource-form');
        await form.waitFor({ timeout: UI_TIMEOUT_MS });
        for (const [field, value] of Object.entries(attempt.values)) await form.getByTestId(`field-${field}`).fill(value);
        await form.getByTestId('form-submit').click();
        const message = form.getByTestId(`field-error-${attempt.field}`);
        await message.waitFor({ timeout: UI_TIMEOUT_MS }).catch(async () => {
          throw new Error(`no error on field ${attempt.field} for ${attempt.what}; the form says: ${await form.innerText().catch(() => '(form gone)')}`);
        });
        const text = (await message.innerText()).trim();
        assert.ok(text.length > 0, `empty message for ${attempt.what}`);
        if (attempt.mentions !== undefined) assert.ok(text.includes(attempt.mentions), `message for ${attempt.what}: ${text}`);
        assert.equal(await form.getByTestId(`field-${attempt.field}`).getAttribute('aria-invalid'), 'true');
        // The form stays open with the input kept, so the operator can correct it.
        assert.equal(await form.getByTestId('field-name').inputValue(), attempt.values.name);
        await form.getByTestId('form-cancel').click();
        await form.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
      } finally {
        await closeDialogs(page);
      }
    }
    const after = await cluster.status('n3');
    const definitions = (status: typeof before) => status.resources.map((r) => `${String(r.name)} ${String(r.ip)}/${String(r.prefix)}`).sort();
    assert.deepEqual(definitions(after), definitions(before));
    assert.equal((await tableRows(page)).length, before.resources.length);
  });

  test('a wrong token is refused: the auth-error screen, no data shown', async () => {
    const wrong = [...token].map((digit, i) => (i === 0 ? (digit === '0' ? '1' : '0') : digit)).join('');
    for (const candidate of [wrong, 'f'.repeat(64)]) {
      const refused = await browser.openConsole({ token: candidate });
      try {
        const screen = refused.getByTestId('auth-error');
        await screen.waitFor({ timeout: UI_TIMEOUT_MS });
        assert.equal(await screen.getAttribute('data-reason'), 'auth-failed');
        assert.equal(await refused.locator('[data-testid^="resource-row-"]').count(), 0);
        assert.equal(await refused.getByTestId('tab-resources').count(), 0);
        const text = await refused.locator('body').innerText();
        for (const secret of ['web', lab.vip(1), lab.host('n1').mac]) assert.ok(!new RegExp(`\\b${secret.replace(/\./g, '\\.')}\\b`).test(text), `"${secret}" shown to a page with a wrong token`);
      } finally {
        await refused.context().close();
      }
    }
  });

  test('the web console is bound to its agent: no desktop connection controls; a link without a token says so', async () => {
    // The connection screen's controls (connect, start, remembered clusters) exist only where the desktop bridge offers them.
    assert.equal(await page.getByTestId('status-connection').getAttribute('data-phase'), 'connected');
    for (const testId of ['switch-cluster', 'connection-panel', 'connection-screen', 'connect-local', 'start-local', 'remote-form']) {
      assert.equal(await page.getByTestId(testId).count(), 0, testId);
    }
    const bare = await browser.openConsole({ token: '' });
    try {
      const screen = bare.getByTestId('auth-error');
      await screen.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await screen.getAttribute('data-reason'), 'no-token');
      assert.equal(await bare.getByTestId('connection-panel').count(), 0);
      assert.equal(await bare.getByTestId('tab-resources').count(), 0);
    } finally {
      await bare.context().close();
    }
  });

  test('the token is taken out of the address bar and the history once read (issue 12)', async () => {
    assert.equal(await page.getByTestId('status-connection').getAttribute('data-phase'), 'connected');
    const href = await page.evaluate<string>('window.location.href');
    assert.doesNotMatch(href, /token/, `the address bar still shows the token: ${href}`);
    assert.doesNotMatch(page.url(), /token/);
  });

  /** `ipfo user add NAME --role ROLE --json` with the node token on the console's node: the credential "NAME:SECRET". */
  async function addUser(name: string, role: 'viewer' | 'operator' | 'admin'): Promise<string> {
    const run = await cluster.cli(CONSOLE_NODE, ['user', 'add', name, '--role', role, '--json']);
    assert.equal(run.code, 0, `ipfo user add ${name}: ${run.stderr}`);
    const credential = (JSON.parse(run.stdout) as { credential?: unknown }).credential;
    assert.ok(typeof credential === 'string' && credential.startsWith(`${name}:`), run.stdout);
    return credential;
  }

  /** One agent command with a user's credential, through the Node client in the console's namespace. */
  async function apiAs(credential: string, type: string, args: object): Promise<{ ok: boolean; code?: string; message?: string }> {
    const file = join(cluster.dir, `credential-${credential.split(':')[0]}`);
    writeFileSync(file, `${credential}\n`, { mode: 0o600 });
    const run = await lab.run(CONSOLE_NODE, [process.execPath, API_CALL, '7790', file, type, JSON.stringify(args)], { timeoutMs: 60_000 });
    return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { ok: boolean; code?: string; message?: string };
  }

  /** The status bar's "as <user> · <role>". */
  async function signedInAs(shown: Page): Promise<string> {
    const session = shown.getByTestId('status-session');
    await session.waitFor({ timeout: UI_TIMEOUT_MS });
    return (await session.innerText()).replace(/\s+/g, ' ').trim();
  }

  test('the node token signs in as root, admin: the status bar says so', async () => {
    assert.equal(await signedInAs(page), 'as root · admin');
  });

  test('a viewer sees the cluster but no action; the agent refuses a move anyway', async () => {
    const credential = await addUser('viewer1', 'viewer');
    const viewer = await browser.openConsole({ token: credential });
    try {
      await viewer.getByTestId('resource-row-web').waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await signedInAs(viewer), 'as viewer1 · viewer');
      assert.doesNotMatch(await viewer.evaluate<string>('window.location.href'), /token|viewer1/, 'the credential left the address bar');
      // The whole cluster is there to read.
      assert.deepEqual((await tableRows(viewer)).map((row) => row.name), ['backup', 'db', 'dns', 'mail', 'web']);

      // Nothing that changes anything is offered: no Move, no row menu, no "New resource".
      assert.equal(await viewer.getByRole('button', { name: 'Move', exact: true }).count(), 0, 'a Move button');
      assert.equal(await viewer.getByRole('button', { name: 'New resource' }).count(), 0, 'New resource');
      assert.equal(await viewer.getByRole('button', { name: /^More actions for / }).count(), 0, 'a row menu button');
      assert.equal(await viewer.locator('[data-testid^="move-"], [data-testid^="actions-"]').count(), 0);
      // Not by mouse, nor by keyboard: a right click, the menu key, Enter, E and Delete on a row do nothing.
      await viewer.getByTestId('resource-row-web').click({ button: 'right' });
      await viewer.getByTestId('resource-row-web').dblclick();
      await viewer.getByTestId('resource-table').focus();
      for (const key of ['ArrowDown', 'ContextMenu', 'Enter', 'm', 'o', 'f', 'e', 'Delete']) await viewer.keyboard.press(key);
      await viewer.waitForTimeout(300);
      assert.equal(await viewer.getByRole('menu').count(), 0, 'a context menu opened');
      assert.equal(await viewer.locator('dialog[open]').count(), 0, 'a dialog opened');

      // The nodes board: no pause or resume, and cards that neither drag nor take the focus.
      await showTab(viewer, 'nodes');
      await viewer.getByTestId('card-web').waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await viewer.getByRole('button', { name: /^(Pause|Resume)/ }).count(), 0, 'pause or resume');
      assert.equal(await viewer.locator('[data-testid^="card-"][draggable="true"], [data-testid^="card-"][tabindex]').count(), 0, 'a card that drags or takes the focus');
      await viewer.getByTestId('card-web').dblclick();
      assert.equal(await viewer.locator('dialog[open]').count(), 0, 'a dialog opened from a card');

      // The agent decides anyway: a move sent with the viewer's credential is refused and moves nothing.
      const before = await onlineOwner('web');
      const target = nextNode(before);
      const refused = await apiAs(credential, 'resource.move', { name: 'web', target });
      assert.equal(refused.ok, false, JSON.stringify(refused));
      assert.equal(refused.code, 'forbidden', JSON.stringify(refused));
      assert.match(refused.message ?? '', /viewer1 has the viewer role; resource\.move needs operator or admin/);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(await onlineOwner('web'), before, 'the refused move moved web');
      await showTab(viewer, 'resources');
      assert.equal(await ownerInTable(viewer, 'web'), before);
      const moves = await cluster.cli('n2', ['events', '--json', '--action', 'resource.move']);
      assert.ok(!moves.stdout.includes('viewer1'), `the audit log has a move by viewer1: ${moves.stdout}`);
    } finally {
      await viewer.context().close();
    }
  });

  test('an operator (signed in by pasting the credential after a refused link) sees Move but not Add resource', async () => {
    const credential = await addUser('operator1', 'operator');
    const refused = await browser.openConsole({ token: `operator1:${'0'.repeat(64)}` });
    try {
      const screen = refused.getByTestId('auth-error');
      await screen.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await screen.getAttribute('data-reason'), 'auth-failed');
      assert.match(await screen.innerText(), /Credential refused/);
      // Something that is not a credential is refused on the page, before anything is sent.
      await refused.getByTestId('auth-credential').fill('operator1:not-a-secret');
      await refused.getByTestId('auth-submit').click();
      await refused.getByTestId('auth-credential-error').waitFor({ timeout: UI_TIMEOUT_MS });
      await refused.getByTestId('auth-credential').fill(credential);
      await refused.getByTestId('auth-submit').click();
      const operator = refused;
      await operator.getByTestId('resource-row-web').waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await signedInAs(operator), 'as operator1 · operator');

      assert.ok((await operator.getByRole('button', { name: 'Move', exact: true }).count()) >= 5, 'a Move button on every row');
      assert.equal(await operator.getByRole('button', { name: 'New resource' }).count(), 0, 'New resource');
      // The row menu: move, online and offline; edit and delete disabled, saying which role they need.
      await operator.getByRole('button', { name: 'More actions for web' }).click();
      const menu = operator.getByRole('menu');
      await menu.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await menu.getByRole('menuitem', { name: /Move to/ }).isEnabled(), true);
      for (const name of [/Edit/, /Delete/]) {
        const item = menu.getByRole('menuitem', { name });
        assert.equal(await item.isDisabled(), true, String(name));
        assert.match((await item.getAttribute('title')) ?? '', /Needs the admin role/);
      }
      await operator.keyboard.press('Escape');
      await menu.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
      // E (edit) does nothing for an operator; Enter opens the move dialog, whose pre-flight runs.
      await operator.getByTestId('resource-table').focus();
      await operator.keyboard.press('ArrowDown');
      await operator.keyboard.press('e');
      await operator.waitForTimeout(300);
      assert.equal(await operator.getByTestId('resource-form').count(), 0, 'the edit form opened');
      await operator.getByTestId('move-web').click();
      const dialog = operator.getByTestId('move-dialog');
      await dialog.getByTestId('preflight-verdict').waitFor({ timeout: UI_TIMEOUT_MS });
      assert.notEqual(await dialog.getByTestId('preflight-verdict').getAttribute('data-verdict'), 'unavailable');
      await dialog.getByTestId('move-cancel').click();
      await dialog.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
      // The nodes board offers pause to an operator.
      await showTab(operator, 'nodes');
      await operator.getByTestId(`pause-${CONSOLE_NODE}`).waitFor({ timeout: UI_TIMEOUT_MS });
      // And the agent refuses what an operator may not do.
      const add = await apiAs(credential, 'resource.add', { spec: { name: 'refused', ip: `${lab.vip(70)}/24` } });
      assert.equal(add.code, 'forbidden', JSON.stringify(add));
      assert.ok(!(await cluster.status('n2')).resources.some((r) => r.name === 'refused'));
    } finally {
      await closeDialogs(refused);
      await refused.context().close();
    }
  });

  test('screenshots of the main views, light and dark, for the README', async () => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const written: string[] = [];
    const backgrounds = new Map<ColorScheme, string>();
    // The conflicts view needs a conflict; when this test runs alone, the rogue makes one.
    if (claimed.size === 0) await rogueConflictLag((await resourceHeldBy((owner) => owner === CONSOLE_NODE)).ip);
    for (const theme of ['light', 'dark'] as const) {
      const shot = await browser.openConsole({ token, colorScheme: theme, viewport: { width: 1280, height: 760 } });
      const save = async (view: string): Promise<void> => {
        // Let transitions and the 1 s clock tick settle so the picture shows the final state.
        await shot.waitForTimeout(300);
        const path = join(SCREENSHOT_DIR, `${view}-${theme}.png`);
        writeFileSync(path, await shot.screenshot({ animations: 'disabled' }));
        written.push(path);
      };
      try {
        await shot.getByTestId('resource-row-web').waitFor({ timeout: UI_TIMEOUT_MS });
        backgrounds.set(theme, await shot.evaluate<string>('getComputedStyle(document.body).backgroundColor'));
        await save('resources');

        await showTab(shot, 'nodes');
        await shot.getByTestId('card-web').waitFor({ timeout: UI_TIMEOUT_MS });
        await save('nodes');

        await showTab(shot, 'resources');
        await shot.getByTestId('move-mail').click();
        const dialog = shot.getByTestId('move-dialog');
        await dialog.getByTestId('move-target').selectOption('n1');
        await dialog.getByTestId('preflight-verdict').waitFor({ timeout: UI_TIMEOUT_MS });
        await save('move-dialog');
        await dialog.getByTestId('move-cancel').click();
        await dialog.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });

        await showTab(shot, 'conflicts');
        await shot.getByTestId('conflict-table').waitFor({ timeout: UI_TIMEOUT_MS });
        assert.ok((await shot.locator('[data-testid^="conflict-row-"]').count()) > 0, 'no conflict row to show');
        await save('conflicts');

        await showTab(shot, 'events');
        await shot.locator('[data-testid^="event-row-"]').first().waitFor({ timeout: UI_TIMEOUT_MS });
        await save('events');

        await showTab(shot, 'resources');
        await shot.getByTestId('new-resource').click();
        const form = shot.getByTestId('resource-form');
        await form.getByTestId('field-name').fill('web');
        await form.getByTestId('field-ip').fill('10.213.0.300');
        await form.getByTestId('field-prefix').fill('33');
        await form.getByTestId('form-submit').click();
        await form.getByTestId('field-error-ip').waitFor({ timeout: UI_TIMEOUT_MS });
        await save('form-errors');
        await form.getByTestId('form-cancel').click();
      } finally {
        await shot.context().close();
      }
    }
    assert.notEqual(backgrounds.get('light'), backgrounds.get('dark'), 'dark and light themes look the same');
    for (const path of written) {
      const png = readFileSync(path);
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', `${path} is not a PNG`);
      assert.ok(png.length > 10_000, `${path} is only ${png.length} bytes`);
    }
    for (const view of ['resources', 'nodes', 'move-dialog', 'conflicts', 'events', 'form-errors']) {
      const light = readFileSync(join(SCREENSHOT_DIR, `${view}-light.png`));
      const dark = readFileSync(join(SCREENSHOT_DIR, `${view}-dark.png`));
      assert.ok(!light.equals(dark), `${view}: the light and dark screenshots are identical`);
    }
  });

  // The web console is reached on a node's loopback, so its browser runs on a cluster node: that
  // must not make the node's standby monitor mistake a busy moment for a dead owner.
  test('no address was taken over during the session (no false failover with a browser on a node)', async () => {
    const events = await cluster.cli('n2', ['events', '--json']);
    assert.equal(events.code, 0, events.stderr);
    const takeovers = events.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { at: number; actor: string; action: string; target: string | null; detail: string | null })
      .filter((event) => event.action === 'takeover')
      .map((event) => `${new Date(event.at).toISOString()} ${event.actor} took ${String(event.target)}: ${String(event.detail)}`);
    assert.deepEqual(takeovers, []);
  });

  test('the page raised no uncaught errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
