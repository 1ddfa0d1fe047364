// `npm run demo` shows the console (issue 16 §4): its agents serve the web console in their own
// namespaces, so the demo forwards n1's to this machine's loopback and prints the URL. Here the real
// demo runs, Chromium in the host's namespace (as on an administrator's machine) opens the printed URL
// and sees the demo's resources; then Ctrl-C (SIGINT) ends the demo and nothing of it is left.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from './browser';
import { JsonLines } from './json-lines';

const DEMO = join(__dirname, '..', 'demo', 'demo.js');
const URL_PATTERN = /Web console of n1, from this machine: (http:\/\/127\.0\.0\.1:7790\/#token=[0-9a-f]{64})/;

const namespaces = (): string[] => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name !== '');

describe('npm run demo', { timeout: 180_000 }, () => {
  let demo: JsonLines | null = null;
  let browser: Browser | null = null;

  after(async () => {
    await browser?.close();
    if (demo !== null && demo.child.exitCode === null) {
      demo.child.kill('SIGINT');
      await demo.exited;
    }
  });

  test('prints a console URL that a browser on this machine opens; Ctrl-C leaves nothing behind', async (t) => {
    const before = new Set(namespaces());
    demo = new JsonLines(spawn(process.execPath, [DEMO], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const line = await demo.waitFor((record) => URL_PATTERN.test(String(record.text)), 120_000, 'the console URL');
    const url = URL_PATTERN.exec(String(line.text))![1]!;
    t.diagnostic(`the demo printed ${url.replace(/[0-9a-f]{64}$/, '<token>')}`);

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
    const page = await browser.newPage();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    for (const resource of ['web', 'db', 'mail']) await page.getByTestId(`resource-row-${resource}`).waitFor({ timeout: 20_000 });
    assert.equal(new URL(page.url()).hash, '', 'the token left the address bar once read');
    await browser.close();
    browser = null;

    demo.child.kill('SIGINT');
    const exit = await demo.exited;
    assert.equal(exit.code, 0, demo.stderr);
    const left = namespaces().filter((name) => !before.has(name));
    assert.deepEqual(left, [], 'the demo deleted its namespaces');
  });
});
