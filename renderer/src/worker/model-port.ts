// Where the console's model runs: a Web Worker when the page can start one (cluster-worker.ts), else
// on the page itself (the same model, answering after the current task), so a browser or shell that
// refuses the worker still shows the cluster. Requests and digests keep their order either way. A
// model that fails on a request (a digest lost: the page's copy can no longer be trusted) is said
// through `onFailure`; the console then starts over from a fresh snapshot (useCluster.ts).
import { ConsoleModel, type ModelDigest, type ModelRequest } from '../model/console-model';

export interface ModelPort {
  post(request: ModelRequest): void;
  close(): void;
}

/** A worker that has not said it is ready within this long is given up for the page's own model. */
const WORKER_START_MS = 3_000;

export function openModelPort(onDigest: (digest: ModelDigest) => void, onFailure: (detail: string) => void): ModelPort {
  let worker: Worker | null = null;
  try {
    worker = new Worker(new URL('./cluster-worker.ts', import.meta.url), { type: 'module', name: 'ipfo-cluster' });
  } catch {
    return onPage(onDigest, onFailure);
  }
  // Requests wait until the worker is ready; if it fails to start, they go to the page's model instead.
  let pending: ModelRequest[] | null = [];
  let fallback: ModelPort | null = null;
  const giveUp = (): void => {
    if (fallback !== null || pending === null) return;
    worker?.terminate();
    fallback = onPage(onDigest, onFailure);
    for (const request of pending) fallback.post(request);
    pending = null;
  };
  const timer = window.setTimeout(giveUp, WORKER_START_MS);
  worker.onerror = (event) => {
    event.preventDefault();
    if (pending !== null) giveUp();
    else onFailure(event.message);
  };
  worker.onmessage = (event: MessageEvent<ModelDigest | 'ready'>) => {
    if (event.data === 'ready') {
      window.clearTimeout(timer);
      const queued = pending ?? [];
      pending = null;
      for (const request of queued) worker?.postMessage(request);
      return;
    }
    onDigest(event.data);
  };
  return {
    post: (request) => {
      if (fallback !== null) fallback.post(request);
      else if (pending !== null) pending.push(request);
      else worker?.postMessage(request);
    },
    close: () => {
      window.clearTimeout(timer);
      worker?.terminate();
      fallback?.close();
    },
  };
}

/** The model on the page: each request handled in a task of its own, as a worker would answer. */
function onPage(onDigest: (digest: ModelDigest) => void, onFailure: (detail: string) => void): ModelPort {
  const model = new ConsoleModel();
  const channel = new MessageChannel();
  let closed = false;
  channel.port2.onmessage = (event: MessageEvent<ModelRequest>) => {
    if (closed) return;
    let digest: ModelDigest | null;
    try {
      digest = model.handle(event.data);
    } catch (error) {
      onFailure(error instanceof Error ? error.message : String(error));
      return;
    }
    if (digest !== null) onDigest(digest);
  };
  return {
    // Through a channel (structured clone, as to a worker): the model never shares objects with the page.
    post: (request) => channel.port1.postMessage(request),
    close: () => {
      closed = true;
      channel.port1.close();
      channel.port2.close();
    },
  };
}
