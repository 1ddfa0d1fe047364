// One etcd watch on a key range that resumes exactly where it stopped. etcd3's own Watcher moves
// its resume point to the header revision of the "created" response, so a connection lost while
// etcd is still replaying older events would skip them; here the resume point advances only past
// events actually delivered. (Progress notifications are not requested: their ordering against
// queued events has had bugs, etcd issues #15220 and #20221.)
import type { IDuplexStream, IEvent, IWatchRequest, IWatchResponse, WatchClient } from 'etcd3';

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

export interface RangeWatchOptions {
  watchClient: WatchClient;
  key: Buffer;
  rangeEnd: Buffer;
  /** Deliver events with revision > afterRevision. */
  afterRevision: number;
  onEvent: (event: IEvent, revision: number) => void;
  /** etcd cannot replay from the resume point (compacted) or refused the watch: the watch is over. */
  onReset: (reason: string) => void;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class RangeWatch {
  private nextRevision: number;
  private stream: WatchStream | null = null;
  private stopped = false;
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;

  constructor(private readonly options: RangeWatchOptions) {
    this.nextRevision = options.afterRevision + 1;
    this.retryMinMs = options.retryMinMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 1000;
    this.retryMs = this.retryMinMs;
  }

  /** Opens the first stream; resolves once etcd confirmed the watch (rejects if it cannot). */
  async start(): Promise<void> {
    const stream = await this.options.watchClient.watch();
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      this.attach(stream, (error) => {
        if (settled) return;
        settled = true;
        if (error === null) {
          resolve();
          return;
        }
        // The caller gets the error; this watch must not live on behind its back.
        void this.stop();
        reject(error);
      });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const stream = this.stream;
    this.stream = null;
    if (stream !== null) {
      try {
        // Cancelled, not only half-closed: etcd keeps a watch stream open after the client's end of it
        // closes, and that open call kept grpc's connection, and with it a stopped agent, alive until
        // the next keepalive ping failed (7.5 s after "stopped").
        stream.end();
        stream.cancel();
      } catch {
        // already closed
      }
    }
    await Promise.resolve();
  }

  private attach(stream: WatchStream, onCreated: (error: Error | null) => void): void {
    this.stream = stream;
    const fail = (error: Error): void => {
      onCreated(error);
      if (this.stream !== stream) return;
      this.stream = null;
      this.scheduleReconnect();
    };
    stream.on('data', (response) => {
      if (this.stream !== stream || this.stopped) return;
      if (response.canceled) {
        this.stream = null;
        stream.end();
        const reason =
          Number(response.compact_revision) > 0
            ? `history compacted up to revision ${response.compact_revision}`
            : `watch canceled: ${response.cancel_reason || 'no reason given'}`;
        onCreated(new Error(reason));
        this.finish(reason);
        return;
      }
      if (response.created) {
        this.retryMs = this.retryMinMs;
        onCreated(null);
      }
      this.deliver(response);
    });
    stream.on('error', fail);
    stream.on('end', () => fail(new Error('watch stream ended')));
    stream.write({
      create_request: {
        key: this.options.key,
        range_end: this.options.rangeEnd,
        start_revision: this.nextRevision,
      },
    });
  }

  private deliver(response: IWatchResponse): void {
    for (const event of response.events) {
      const revision = Number(event.kv.mod_revision);
      if (revision < this.nextRevision) continue; // replayed after a reconnect: already delivered
      this.options.onEvent(event, revision);
      if (this.stopped) return;
      // Events of one transaction share a revision; advance past it only once all have been seen,
      // which is guaranteed at the end of a response (etcd does not split a revision unless asked to).
      this.nextRevision = revision;
    }
    const last = response.events[response.events.length - 1];
    if (last !== undefined) this.nextRevision = Number(last.kv.mod_revision) + 1;
  }

  private finish(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.options.onReset(reason);
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer !== null) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMaxMs, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stopped) return;
      this.options.watchClient.watch().then(
        (stream) => {
          if (this.stopped) {
            stream.cancel();
            return;
          }
          this.attach(stream, () => undefined);
        },
        () => this.scheduleReconnect(),
      );
    }, delay);
  }
}
