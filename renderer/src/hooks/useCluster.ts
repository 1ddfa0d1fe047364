// Runs the agent connection and keeps the console's copy of the cluster. Pushes are queued and
// applied in batches: on the next animation frame, but at most every MIN_FLUSH_INTERVAL_MS, so a
// stream of 1,000 changes a second on 10,000 resources costs ten re-sorts a second instead of
// sixty, and none is dropped (a batch applies every push it holds, in order). A snapshot is applied
// as soon as it arrives.
import { useEffect, useRef, useState } from 'react';
import type { Push } from '../../../preload/contract/protocol';
import type { ConnectionStatus, ConsoleApi } from '../api/console-api';
import { applyPushes, EMPTY_CLUSTER, type ClusterState } from '../model/cluster-state';

const MIN_FLUSH_INTERVAL_MS = 100;
/** A background tab gets no animation frames: the timer flushes instead. */
const BACKGROUND_FLUSH_MS = 250;

export interface ClusterConnection {
  cluster: ClusterState;
  status: ConnectionStatus;
}

export function useCluster(api: ConsoleApi, initialStatus: ConnectionStatus): ClusterConnection {
  const [cluster, setCluster] = useState<ClusterState>(EMPTY_CLUSTER);
  const [status, setStatus] = useState<ConnectionStatus>(initialStatus);
  const queue = useRef<Push[]>([]);

  useEffect(() => {
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
      const pushes = queue.current;
      if (pushes.length === 0) return;
      queue.current = [];
      lastFlush = performance.now();
      setCluster((state) => applyPushes(state, pushes));
    };
    const schedule = (): void => {
      if (frame !== null || timer !== null) return;
      const wait = lastFlush + MIN_FLUSH_INTERVAL_MS - performance.now();
      // A snapshot (or the first change after a quiet spell) shows at the next frame; a stream is paced.
      if (wait <= 0 || queue.current.some((push) => push.type === 'snapshot' || push.type === 'snapshot-head')) {
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
        // A snapshot (or the paged stream's head) replaces everything queued before it, and is
        // applied at once: the first screen should not also wait for the next animation frame.
        queue.current = [push];
        flush();
        return;
      }
      // Rows of the paged snapshot queue like changes, in order with them (the model drops a row
      // that a change already overtook); the last one makes the whole table at the next flush.
      queue.current.push(push);
      schedule();
    };
    const reset = (): void => {
      cancel();
      queue.current = [];
      setCluster(EMPTY_CLUSTER);
    };
    const stop = api.start(onPush, setStatus, reset);
    return () => {
      stop();
      cancel();
    };
  }, [api]);

  // An out-of-order stream means this copy may be wrong: start over from a fresh snapshot.
  useEffect(() => {
    if (cluster.outOfSync) api.resync();
  }, [api, cluster.outOfSync]);

  return { cluster, status };
}
