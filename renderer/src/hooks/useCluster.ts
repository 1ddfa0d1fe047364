// Runs the agent connection and the console's model (model/console-model.ts, in a worker where the
// page can start one: worker/model-port.ts). Pushes are queued and handed to the model in batches:
// on the next animation frame, but at most every MIN_FLUSH_INTERVAL_MS, so a stream of 1,000 changes
// a second costs ten batches a second, and none is dropped (a batch carries every push it holds, in
// order). A snapshot goes at once. The model answers with digests (what the page shows), folded into
// the page's cluster (model/page-cluster.ts).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Push } from '../../../preload/contract/protocol';
import type { ConnectionStatus, ConsoleApi } from '../api/console-api';
import type { ModelDigest, ModelRequest } from '../model/console-model';
import { EMPTY_PAGE_CLUSTER, foldDigest, type PageCluster, type PageWants } from '../model/page-cluster';
import type { ResourceSort } from '../model/resource-table';
import { openModelPort, type ModelPort } from '../worker/model-port';

const MIN_FLUSH_INTERVAL_MS = 100;
/** A background tab gets no animation frames: the timer flushes instead. */
const BACKGROUND_FLUSH_MS = 250;

/** What the views tell the model they show. */
export interface ClusterModelControls {
  /** The Resources table's filter, sort, folded groups and selected item. */
  setTable(filter: string, sort: ResourceSort, collapsed: ReadonlySet<string>, selected: string | null): void;
  /** The table's items the page wants: [start, end). */
  setWindow(start: number, end: number): void;
  /** Resources wanted by name (toasts' subjects, the open dialog's). */
  setWatched(names: readonly string[]): void;
  /** Every resource, kept up to date, while on (PageCluster.mirror). */
  setMirror(on: boolean): void;
  /** The resources held per node, kept up to date, while on (PageCluster.loads). */
  setLoads(on: boolean): void;
}

export interface ClusterConnection {
  cluster: PageCluster;
  status: ConnectionStatus;
  model: ClusterModelControls;
}

export function useCluster(api: ConsoleApi, initialStatus: ConnectionStatus): ClusterConnection {
  const [cluster, setCluster] = useState<PageCluster>(EMPTY_PAGE_CLUSTER);
  const [status, setStatus] = useState<ConnectionStatus>(initialStatus);
  const port = useRef<ModelPort | null>(null);
  const wants = useRef<{ -readonly [K in keyof PageWants]: boolean }>({ mirror: false, loads: false });
  // What the views asked for before the port opened (React runs children's effects first), and the
  // last table and window requests, sent again to a port opened later.
  const lasting = useRef<Partial<Record<ModelRequest['type'], ModelRequest>>>({});

  const post = useCallback((request: ModelRequest) => {
    if (request.type !== 'pushes' && request.type !== 'reset') lasting.current[request.type] = request;
    port.current?.post(request);
  }, []);

  useEffect(() => {
    const onDigest = (digest: ModelDigest): void => setCluster((page) => foldDigest(page, digest, { ...wants.current }));
    // A digest lost: both sides start over, from a fresh snapshot.
    const onFailure = (detail: string): void => {
      console.error(`the console's model failed (${detail}): starting over from a fresh snapshot`);
      setCluster(EMPTY_PAGE_CLUSTER);
      port.current?.post({ type: 'reset' });
      api.resync();
    };
    const modelPort = openModelPort(onDigest, onFailure);
    port.current = modelPort;
    for (const request of Object.values(lasting.current)) modelPort.post(request);
    let queue: Push[] = [];
    let frame: number | null = null;
    let timer: number | null = null;
    let lastFlush = 0;
    const cancel = (): void => {
      if (frame !== null) cancelAnimationFrame(frame);
      if (timer !== null) window.clearTimeout(timer);
      frame = timer = null;
    };
    const flush = (): void => {
      cancel();
      if (queue.length === 0) return;
      const pushes = queue;
      queue = [];
      lastFlush = performance.now();
      modelPort.post({ type: 'pushes', pushes });
    };
    const schedule = (): void => {
      if (frame !== null || timer !== null) return;
      const wait = lastFlush + MIN_FLUSH_INTERVAL_MS - performance.now();
      if (wait <= 0) {
        frame = requestAnimationFrame(flush);
        timer = window.setTimeout(flush, BACKGROUND_FLUSH_MS);
      } else {
        timer = window.setTimeout(() => {
          timer = null;
          frame = requestAnimationFrame(flush);
          timer = window.setTimeout(flush, BACKGROUND_FLUSH_MS);
        }, wait);
      }
    };
    const onPush = (push: Push): void => {
      if (push.type === 'snapshot' || push.type === 'snapshot-head') {
        // A snapshot (or the paged stream's head) replaces everything queued before it, and goes at
        // once: the first screen should not also wait for the next animation frame.
        queue = [push];
        flush();
        return;
      }
      // Rows of the paged snapshot queue like changes, in order with them (the model drops a row
      // that a change already overtook); the last one makes the whole table at the next flush.
      queue.push(push);
      schedule();
    };
    const reset = (): void => {
      cancel();
      queue = [];
      // Both sides start over: the model resends whatever the page shows.
      setCluster(EMPTY_PAGE_CLUSTER);
      modelPort.post({ type: 'reset' });
    };
    const stop = api.start(onPush, setStatus, reset);
    return () => {
      stop();
      cancel();
      modelPort.close();
      if (port.current === modelPort) port.current = null;
    };
  }, [api]);

  // An out-of-order stream means this copy may be wrong: start over from a fresh snapshot.
  useEffect(() => {
    if (cluster.outOfSync) api.resync();
  }, [api, cluster.outOfSync]);

  // The page drops what it no longer wants at once; digests already on their way bring none of it.
  const want = useCallback(
    (kind: keyof PageWants, on: boolean) => {
      wants.current[kind] = on;
      if (!on) setCluster((page) => (page[kind] === null ? page : { ...page, [kind]: null }));
      post({ type: kind, on });
    },
    [post],
  );

  const model = useMemo<ClusterModelControls>(
    () => ({
      setTable: (filter, sort, collapsed, selected) => post({ type: 'table', filter, sort, collapsed: [...collapsed], selected }),
      setWindow: (start, end) => post({ type: 'window', start, end }),
      setWatched: (names) => post({ type: 'watch', names }),
      setMirror: (on) => want('mirror', on),
      setLoads: (on) => want('loads', on),
    }),
    [post, want],
  );

  return { cluster, status, model };
}
