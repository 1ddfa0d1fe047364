// The Electron window's trust rules without Electron (main/console/app-pages.ts): who may call the
// main process, what an app:// URL may name, the CSP and the window's web preferences. The renderer
// is the window's one page: the shell serves no page of its own.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONSOLE_PAGE_URL, resolveAppRequest, senderVerdict, TRUSTED_PAGES, WINDOW_CSP, type SenderFacts } from '../../main/console/app-pages';
import { consoleWebPreferences } from '../../main/electron/window-options';

const OURS: SenderFacts = { fromConsoleWindow: true, isTopFrame: true, frameUrl: CONSOLE_PAGE_URL };

describe('senderVerdict', () => {
  test('our window, top frame, our pages: served (any fragment or query)', () => {
    for (const frameUrl of [CONSOLE_PAGE_URL, `${CONSOLE_PAGE_URL}#/resources`, 'app://console/', `${CONSOLE_PAGE_URL}?x=1`]) {
      assert.deepEqual(senderVerdict({ ...OURS, frameUrl }), { ok: true }, frameUrl);
    }
  });

  test('another window, an iframe, or a gone frame: refused', () => {
    assert.equal(senderVerdict({ ...OURS, fromConsoleWindow: false }).ok, false);
    assert.equal(senderVerdict({ ...OURS, isTopFrame: false }).ok, false);
    assert.equal(senderVerdict({ ...OURS, frameUrl: null }).ok, false);
  });

  test('any other page: refused, however close it looks', () => {
    const untrusted = [
      'https://evil.example/index.html',
      'file:///index.html',
      'file:///work/main/renderer/dist/index.html',
      'app://console/other.html',
      'app://Console/index.html',
      'app://console.evil/index.html',
      'app://user:pass@console/index.html',
      'app://shell/connect.html',
      'app://shell/connect.css',
      'app://console/%69ndex.html',
      'http://127.0.0.1:7790/',
      'about:blank',
      'data:text/html,<script>ipfo.move()</script>',
      'javascript:alert(1)',
      'not a url',
      '',
    ];
    for (const frameUrl of untrusted) {
      const verdict = senderVerdict({ ...OURS, frameUrl });
      assert.equal(verdict.ok, false, frameUrl);
    }
  });
});

describe('resolveAppRequest', () => {
  test('the renderer\'s files, and nothing else', () => {
    assert.deepEqual(resolveAppRequest('app://console/index.html'), { kind: 'console', segments: ['index.html'] });
    assert.deepEqual(resolveAppRequest('app://console/'), { kind: 'console', segments: ['index.html'] });
    assert.deepEqual(resolveAppRequest('app://console/assets/app-1234.js?v=2'), { kind: 'console', segments: ['assets', 'app-1234.js'] });
    // The shell's own connection page is gone: its old addresses name nothing.
    for (const file of ['connect.html', 'connect.css', 'connect-page.js']) assert.equal(resolveAppRequest(`app://shell/${file}`).kind, 'refused', file);
    assert.deepEqual(TRUSTED_PAGES, [CONSOLE_PAGE_URL, 'app://console/']);
  });

  test('traversal, encodings, dot files, other hosts and schemes name nothing', () => {
    const refused = [
      'app://console/../main/console/start.js',
      'app://console/%2e%2e/package.json',
      'app://console/..%2f..%2fetc%2fpasswd',
      'app://console/assets/..\\..\\x',
      'app://console/.env',
      'app://console//etc/passwd',
      'app://console/a%00.js',
      'app://shell/../console/index.html',
      'app://shell/connect-page.ts',
      'app://shell/',
      'app://other/index.html',
      'app://user@console/index.html',
      'app://console:8080/index.html',
      'file:///etc/passwd',
      'https://console/index.html',
      'app://console/%E0%A4%A',
    ];
    for (const url of refused) assert.equal(resolveAppRequest(url).kind, 'refused', url);
  });
});

describe('the window', () => {
  test('context isolation, sandbox, no Node, web security on', () => {
    const preferences = consoleWebPreferences('/app/build/preload/index.js');
    assert.equal(preferences.contextIsolation, true);
    assert.equal(preferences.sandbox, true);
    assert.equal(preferences.nodeIntegration, false);
    assert.equal(preferences.nodeIntegrationInSubFrames, false);
    assert.equal(preferences.nodeIntegrationInWorker, false);
    assert.equal(preferences.webSecurity, true);
    assert.equal(preferences.allowRunningInsecureContent, false);
    assert.equal(preferences.webviewTag, false);
    assert.equal(preferences.preload, '/app/build/preload/index.js');
  });

  test('the CSP allows only the page\'s own origin and no network', () => {
    const directives = new Map(WINDOW_CSP.split('; ').map((directive) => [directive.split(' ')[0], directive.split(' ').slice(1).join(' ')]));
    assert.equal(directives.get('default-src'), "'none'");
    assert.equal(directives.get('script-src'), "'self'");
    assert.equal(directives.get('connect-src'), "'none'");
    // The console's model runs in a worker of the page's own origin (renderer/src/worker/).
    assert.equal(directives.get('worker-src'), "'self'");
    assert.equal(directives.get('object-src'), "'none'");
    assert.equal(directives.get('base-uri'), "'none'");
    assert.equal(directives.get('frame-ancestors'), "'none'");
    assert.doesNotMatch(WINDOW_CSP, /unsafe|\*|http:|https:|ws:|data:.*script/);
  });
});
