// The Electron main process: a thin shell around the console session. One instance, one window
// (context-isolated, sandboxed, no Node), pages from app:// under a strict CSP, no navigation, no
// new windows, no permissions; the page reaches the agent only through the verbs of
// preload/contract/ipc.ts, each checked in ipc-main.ts.
//
// One page, the renderer (renderer/dist), whatever the connection: at start main connects to the
// local agent if it answers (127.0.0.1:7790) and its token is at hand; otherwise the renderer's
// connection screen offers to start one through the OS password prompt (single-host file store) or
// to connect to a remote cluster (remembered, several). A renderer that is not built is an error
// box, not a second UI.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { app, BrowserWindow, dialog, protocol, session as electronSession, type Session, type WebContents } from 'electron';
import { APP_SCHEME, CONSOLE_PAGE_URL, WINDOW_CSP } from '../console/app-pages';
import { ConnectionStore } from '../console/connection-store';
import { startLocalAgentElevated } from '../console/elevate';
import { defaultLocalAgentSettings } from '../console/local-agent';
import { ConsoleSession } from '../console/session';
import { registerAppProtocol, RENDERER_DIR } from './app-protocol';
import { registerConsoleHandlers, streamSender } from './console-handlers';
import type { IpcHost } from './ipc-main';
import { consoleWindowOptions } from './window-options';

const PRELOAD = resolve(__dirname, '..', '..', 'preload', 'index.js');

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} console: ${line}\n`);
}

/** Rules for every web contents this app ever creates (the window, and anything that slips by). */
function hardenWebContents(contents: WebContents): void {
  // Our pages change only when main loads another one (loadURL does not raise will-navigate).
  contents.on('will-navigate', (event, url) => {
    event.preventDefault();
    log(`blocked navigation to ${url.slice(0, 200)}`);
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    log(`blocked a new window for ${url.slice(0, 200)}`);
    return { action: 'deny' };
  });
}

function hardenSession(session: Session): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [WINDOW_CSP] } });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.on('will-download', (event) => event.preventDefault());
}

function rendererBuilt(): boolean {
  return existsSync(join(RENDERER_DIR, 'index.html'));
}

export function startShell(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
  // Tests run the shell against their own directory and agent (see local-agent.ts for the agent).
  const userData = process.env.IPFO_CONSOLE_USER_DATA;
  if (userData !== undefined && userData !== '') app.setPath('userData', userData);
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

  let window: BrowserWindow | null = null;
  const host: IpcHost = { window: () => window, log };
  app.on('second-instance', () => {
    if (window === null) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('window-all-closed', () => app.quit());

  void app.whenReady().then(async () => {
    if (!rendererBuilt()) {
      const missing = join(RENDERER_DIR, 'index.html');
      log(`${missing} is missing`);
      dialog.showErrorBox('IP Failover Console', `The console's page is not built (${missing} is missing): run \`npm run build\`, then start the console again.`);
      app.quit();
      return;
    }
    registerAppProtocol(protocol);
    hardenSession(electronSession.defaultSession);
    const settings = defaultLocalAgentSettings();
    const store = new ConnectionStore(join(app.getPath('userData'), 'connections.json'));
    const session = new ConsoleSession({
      store,
      local: settings,
      startLocalAgent: process.platform === 'linux' ? () => startLocalAgentElevated(settings) : undefined,
      log,
    });
    registerConsoleHandlers(host, session, store);

    const consoleWindow = new BrowserWindow(consoleWindowOptions(PRELOAD));
    window = consoleWindow;
    consoleWindow.once('ready-to-show', () => consoleWindow.show());
    consoleWindow.on('closed', () => {
      window = null;
      void session.disconnect();
    });
    // A page's stream ends with the page.
    consoleWindow.webContents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) void session.closeStream();
    });

    // The page follows the connection through 'connection' messages on its stream (it subscribes
    // again when a session begins); main loads it once, after the first attempt at the local agent
    // (so it does not open on "not connected" while that attempt is under way).
    const send = streamSender(host);
    session.onState((state) => send({ type: 'connection', connection: state }));
    await session.autoConnect();
    if (!consoleWindow.isDestroyed()) {
      consoleWindow.loadURL(CONSOLE_PAGE_URL).catch((error: unknown) => log(`cannot load ${CONSOLE_PAGE_URL}: ${String(error)}`));
    }
  });
}
