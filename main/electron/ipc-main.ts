// The one way main answers the renderer: handle(verb, implementation). Each call is served only
// when it comes from the console window's top frame showing one of our pages (senderVerdict), with
// an argument that passes the verb's schema; its result is checked against the contract before
// the page sees it (dispatchIpcCall). Nothing the renderer sends is trusted.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { IPC_CONTRACT, type IpcVerb } from '../../preload/contract/ipc';
import { senderVerdict, type SenderFacts } from '../console/app-pages';
import { dispatchIpcCall, type IpcImplementation } from '../console/ipc-dispatch';

export interface IpcHost {
  /** The console window, or null while there is none. */
  window: () => BrowserWindow | null;
  log: (line: string) => void;
}

export function senderFacts(event: IpcMainInvokeEvent, window: BrowserWindow | null): SenderFacts {
  const contents = window === null || window.isDestroyed() ? null : window.webContents;
  const frame = event.senderFrame;
  const top = contents?.mainFrame ?? null;
  return {
    fromConsoleWindow: contents !== null && event.sender === contents,
    isTopFrame:
      frame !== null && top !== null && frame.parent === null && frame.processId === top.processId && frame.frameToken === top.frameToken,
    frameUrl: frame?.url ?? null,
  };
}

export function handle<V extends IpcVerb>(host: IpcHost, verb: V, implementation: IpcImplementation<V>): void {
  ipcMain.handle(IPC_CONTRACT[verb].channel, (event, ...args: unknown[]) => {
    const verdict = senderVerdict(senderFacts(event, host.window()));
    if (!verdict.ok) {
      host.log(`ipc: refused ${verb}: ${verdict.reason}`);
      throw new Error('refused');
    }
    return dispatchIpcCall(verb, args, implementation);
  });
}
