// Every verb of window.ipfo, as one line each onto the console session and its agent client; every
// agent command is the one `request` line, so a new command needs nothing here.
import type { WebContents } from 'electron';
import { IPC_STREAM_CHANNEL, type StreamMessage } from '../../preload/contract/ipc';
import type { ConnectionStore } from '../console/connection-store';
import { isValidStreamMessage } from '../console/ipc-dispatch';
import type { ConsoleSession } from '../console/session';
import { handle, handleRequest, type IpcHost } from './ipc-main';

/** Sends a stream message to the window's page, if there is one and the message keeps the contract. */
export function streamSender(host: IpcHost): (message: StreamMessage) => void {
  return (message) => {
    const window = host.window();
    const contents: WebContents | null = window === null || window.isDestroyed() ? null : window.webContents;
    if (contents === null || contents.isDestroyed()) return;
    if (!isValidStreamMessage(message)) {
      host.log(`ipc: dropped a stream message that breaks the contract (${String((message as { type?: unknown }).type)})`);
      return;
    }
    contents.send(IPC_STREAM_CHANNEL, message);
  };
}

export function registerConsoleHandlers(host: IpcHost, session: ConsoleSession, store: ConnectionStore): void {
  const send = streamSender(host);
  const agent = () => session.agent();

  handleRequest(host, (type, args) => agent().request(type, args));
  handle(host, 'subscribe', async ({ view }) => {
    send({ type: 'connection', connection: session.connection });
    await session.openStream(send, view);
    return { subscribed: true as const };
  });
  handle(host, 'unsubscribe', async () => {
    await session.closeStream();
    return { subscribed: false as const };
  });
  handle(host, 'connection.status', () => Promise.resolve(session.connection));
  handle(host, 'connection.list', () => session.list());
  handle(host, 'connection.connect', (target) => session.connect(target));
  handle(host, 'connection.forget', async ({ id }) => ({ forgotten: await store.forget(id) }));
  handle(host, 'connection.disconnect', () => session.disconnect());
  handle(host, 'connection.startLocalAgent', () => session.startLocalAgent());
}
