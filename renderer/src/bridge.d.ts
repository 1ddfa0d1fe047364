// window.ipfo: the Electron preload's bridge (preload/index.ts), typed by the shared IPC contract.
// Absent in the web console, which talks to the agent over a WebSocket instead.
import type { IpfoBridge } from '../../preload/contract/ipc';

declare global {
  interface Window {
    readonly ipfo?: IpfoBridge;
  }
}

export {};
