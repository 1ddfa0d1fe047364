// The console window's options, apart so a unit test can read them without Electron (type import
// only). Every web preference that weakens the renderer's isolation is spelled out, off.
import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';

export function consoleWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  };
}

export function consoleWindowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1360,
    height: 860,
    minWidth: 900,
    minHeight: 560,
    show: false,
    title: 'IP Failover Console',
    autoHideMenuBar: true,
    webPreferences: consoleWebPreferences(preload),
  };
}
