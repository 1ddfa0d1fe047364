// The only ways main answers the renderer: handle(verb, implementation) for a verb of IPC_CONTRACT,
// handleRequest(implementation) for every agent command. Each call is served only when it comes
// from the console window's top frame showing one of our pages (servedFrom), with an argument that
// passes the verb's schema or the command's schema in the protocol; its result is checked against
// the contract before the page sees it (ipc-dispatch.ts). Nothing the renderer sends is trusted.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { IPC_CONTRACT, IPC_REQUEST_CHANNEL, type IpcVerb } from '../../preload/contract/ipc';
import type { SenderFacts } from '../console/app-pages';
import { dispatchIpcCall, dispatchIpcRequest, servedFrom, type IpcImplementation, type IpcRequestImplementation } from '../console/ipc-dispatch';

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
  ipcMain.handle(IPC_CONTRACT[verb].channel, (event, ...args: unknown[]) =>
    servedFrom(senderFacts(event, host.window()), verb, host.log, () => dispatchIpcCall(verb, args, implementation)),
  );
}

export function handleRequest(host: IpcHost, implementation: IpcRequestImplementation): void {
  ipcMain.handle(IPC_REQUEST_CHANNEL, (event, ...args: unknown[]) =>
    servedFrom(senderFacts(event, host.window()), 'request', host.log, () => dispatchIpcRequest(args, implementation)),
  );
}
