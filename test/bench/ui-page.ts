// Scripts `npm run bench:ui` runs INSIDE the console page. Strings, not functions: the test tsconfig
// has no DOM types, and a string is exactly what reaches the page. Nothing here ships with the
// console; the page is the production build, unchanged.

/**
 * Installed before any page script (page.addInitScript). Records, in page time (ms since
 * navigation start = performance.timeOrigin):
 * - snapshotAt: the first snapshot message arrived (a whole snapshot push, or the paged stream's
 *   head: dispatch of its WebSocket message event, before the console's own listener runs: the
 *   bench's listener is added first, in the constructor), snapshotBytes its size;
 * - restAt: the paged stream's last rows push arrived (null for a whole snapshot), restBytes the
 *   size of the head and all rows pushes;
 * - rowInsertedAt: the first resource row is in the DOM (MutationObserver);
 * - rowPaintedAt: the first frame holding that row has been painted: the first requestAnimationFrame
 *   after the insertion runs just before that frame's paint, and a task posted from it runs after it;
 * - for the breakdown of the first-row time, the first socket's life: socketAt (created), openAt,
 *   helloAt (first message sent), helloReplyAt (the agent's first message), subscribeAt (the
 *   subscribe request sent).
 */
export const FIRST_RENDER_INIT_SCRIPT = `(() => {
  // Said on the console (CDP delivers it) once the sample is complete: the bench does not poll the
  // page while it loads, as every evaluate would be a task on the thread being measured.
  const ready = () => {
    if (bench.rowPaintedAt !== null && (!bench.paged || bench.restAt !== null)) console.debug('ipfo-bench:first-render-ready');
  };
  const bench = { snapshotAt: null, snapshotBytes: 0, paged: false, restAt: null, restBytes: 0, rowInsertedAt: null, rowPaintedAt: null,
    socketAt: null, openAt: null, helloAt: null, helloReplyAt: null, subscribeAt: null };
  Object.defineProperty(window, '__uiBench', { value: bench });
  const NativeWebSocket = window.WebSocket;
  class BenchWebSocket extends NativeWebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      const first = bench.socketAt === null;
      if (first) {
        bench.socketAt = performance.now();
        this.addEventListener('open', () => { bench.openAt = performance.now(); });
        this.addEventListener('message', () => { if (bench.helloReplyAt === null) bench.helloReplyAt = performance.now(); });
      }
      this.benchFirst = first;
      this.addEventListener('message', (event) => {
        if (typeof event.data !== 'string' || !event.data.startsWith('{"type":"snapshot')) return;
        if (bench.snapshotAt === null) {
          bench.snapshotAt = performance.now();
          bench.snapshotBytes = event.data.length;
          bench.paged = event.data.startsWith('{"type":"snapshot-head"');
        }
        if (bench.restAt !== null) return;
        bench.restBytes += event.data.length;
        if (event.data.startsWith('{"type":"snapshot-rows"') && event.data.endsWith('"done":true}')) {
          bench.restAt = performance.now();
          ready();
        }
      });
    }
  }
  const nativeSend = NativeWebSocket.prototype.send;
  BenchWebSocket.prototype.send = function (data) {
    if (this.benchFirst && typeof data === 'string') {
      if (bench.helloAt === null) bench.helloAt = performance.now();
      if (bench.subscribeAt === null && data.includes('"type":"subscribe"')) bench.subscribeAt = performance.now();
    }
    return nativeSend.call(this, data);
  };
  window.WebSocket = BenchWebSocket;
  const observer = new MutationObserver(() => {
    if (bench.rowInsertedAt !== null || document.querySelector('[data-testid^="resource-row-"], [data-first-screen-row]') === null) return;
    bench.rowInsertedAt = performance.now();
    observer.disconnect();
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        bench.rowPaintedAt = performance.now();
        ready();
      };
      channel.port2.postMessage(0);
    });
  });
  observer.observe(document, { childList: true, subtree: true });
})();`;

export interface FirstRenderSample {
  responseEnd: number;
  domContentLoaded: number;
  snapshotAt: number;
  snapshotBytes: number;
  /** Null when the console got a whole snapshot. */
  restAt: number | null;
  restBytes: number;
  rowInsertedAt: number;
  rowPaintedAt: number;
  /** The first socket: created, open, hello sent, the agent's first reply, subscribe sent (null: not seen). */
  socketAt: number | null;
  openAt: number | null;
  helloAt: number | null;
  helloReplyAt: number | null;
  subscribeAt: number | null;
  /** The page's script (the first .js resource): request start and response end. */
  scriptRequestAt: number | null;
  scriptLoadedAt: number | null;
  /** The page's own marks (renderer: early-socket.ts, main.tsx), null where this build sets none. */
  scriptStartMark: number | null;
  scriptEndMark: number | null;
}

/** The console message of the init script once the first row is painted and, for the paged stream, its last rows push arrived. */
export const FIRST_RENDER_READY = 'ipfo-bench:first-render-ready';

export const FIRST_RENDER_RESULT = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const b = window.__uiBench;
  const script = performance.getEntriesByType('resource').find((entry) => entry.name.endsWith('.js'));
  const mark = (name) => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? null;
  return { responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd, snapshotAt: b.snapshotAt, snapshotBytes: b.snapshotBytes, restAt: b.restAt, restBytes: b.restBytes, rowInsertedAt: b.rowInsertedAt, rowPaintedAt: b.rowPaintedAt,
    socketAt: b.socketAt, openAt: b.openAt, helloAt: b.helloAt, helloReplyAt: b.helloReplyAt, subscribeAt: b.subscribeAt,
    scriptRequestAt: script?.startTime ?? null, scriptLoadedAt: script?.responseEnd ?? null, scriptStartMark: mark('ipfo:script-start'), scriptEndMark: mark('ipfo:script-end') };
})()`;

export interface FrameRun {
  /** requestAnimationFrame timestamp differences, ms. */
  intervals: number[];
  /** Durations of long-animation-frame entries (Chromium's LoAF, > 50 ms), ms. */
  longAnimationFrames: number[];
  /** Frames in which the table showed no row at the middle of its viewport (the virtualiser fell behind). */
  blankFrames: number;
}

/**
 * Records frame intervals for `durationMs`. With speedPxPerS > 0 the table's scroller moves at that
 * fixed speed: its scrollTop is set from the elapsed time in every frame (a triangle wave over the
 * whole height, so a long run bounces at the ends instead of stopping).
 */
export function frameRunScript(speedPxPerS: number, durationMs: number): string {
  return `new Promise((resolve) => {
  const speed = ${JSON.stringify(speedPxPerS)};
  const durationMs = ${JSON.stringify(durationMs)};
  const el = document.querySelector('[data-testid="resource-table"]');
  const max = Math.max(1, el.scrollHeight - el.clientHeight);
  const start = el.scrollTop;
  const intervals = [];
  const longAnimationFrames = [];
  let blankFrames = 0;
  let observer = null;
  try {
    observer = new PerformanceObserver((list) => { for (const entry of list.getEntries()) longAnimationFrames.push(entry.duration); });
    observer.observe({ type: 'long-animation-frame' });
  } catch { observer = null; }
  // Blank check without forcing a layout: the rows' own offsets (in the canvas below the
  // 32 px sticky header) against the position set in the previous frame.
  const middle = el.clientHeight / 2 - 32;
  const rowAt = (y) => {
    for (const row of el.querySelectorAll('[data-testid^="resource-row-"]')) {
      // The row's offset, whichever way the build positions rows (transform or top).
      const transform = row.style.transform;
      const offset = transform.startsWith('translateY(') ? parseFloat(transform.slice(11)) : parseFloat(row.style.top);
      if (Number.isFinite(offset) && offset <= y && y < offset + 30) return true;
    }
    return false;
  };
  let previous = start;
  let t0 = null;
  let last = 0;
  const step = (t) => {
    if (t0 === null) t0 = t; else intervals.push(t - last);
    last = t;
    const elapsed = t - t0;
    if (speed > 0) {
      if (intervals.length > 0 && !rowAt(previous + middle)) blankFrames++;
      let position = (start + (speed * elapsed) / 1000) % (2 * max);
      if (position > max) position = 2 * max - position;
      el.scrollTop = position;
      previous = position;
    }
    if (elapsed < durationMs) requestAnimationFrame(step);
    else {
      if (observer !== null) { for (const entry of observer.takeRecords()) longAnimationFrames.push(entry.duration); observer.disconnect(); }
      resolve({ intervals, longAnimationFrames, blankFrames });
    }
  };
  requestAnimationFrame(step);
})`;
}

/** The renderer's applied-stream counters, from attributes of the table (null where this build has none). */
export const STREAM_COUNTERS = `(() => {
  const table = document.querySelector('[data-testid="resource-table"]');
  const status = document.querySelector('[data-testid="status-revision"]');
  const revisionText = status === null ? '' : status.textContent.replace(/[^0-9]/g, '');
  const attr = (name) => (table === null || !table.hasAttribute(name) ? null : Number(table.getAttribute(name)));
  return {
    revision: attr('data-revision') ?? (revisionText === '' ? null : Number(revisionText)),
    applied: attr('data-applied'),
  };
})()`;
