// The agent process's own metrics, under the names every Prometheus client library uses (process_*,
// nodejs_*), read at scrape time: CPU, memory, file descriptors, start time, and the event loop's delay
// since the last scrape — the agent's timers (renewals, the standby's probes) run only as often as it allows.
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Registry } from './registry';

function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

function maxFds(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line === undefined ? NaN : Number(line.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) ? soft : null;
  } catch {
    return null;
  }
}

export function registerProcessMetrics(registry: Registry): void {
  const startSec = Math.round((performance.timeOrigin / 1000) * 1000) / 1000;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const cpu = (): NodeJS.CpuUsage => process.cpuUsage();
  registry.collectedCounter({ name: 'process_cpu_user_seconds_total', help: 'User CPU time spent, seconds.' }, () => [{ value: cpu().user / 1e6 }]);
  registry.collectedCounter({ name: 'process_cpu_system_seconds_total', help: 'System CPU time spent, seconds.' }, () => [{ value: cpu().system / 1e6 }]);
  registry.collectedCounter({ name: 'process_cpu_seconds_total', help: 'User and system CPU time spent, seconds.' }, () => {
    const usage = cpu();
    return [{ value: (usage.user + usage.system) / 1e6 }];
  });
  registry.gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size, bytes.' }, () => [{ value: process.memoryUsage.rss() }]);
  registry.gauge({ name: 'process_heap_bytes', help: 'JavaScript heap in use, bytes.' }, () => [{ value: process.memoryUsage().heapUsed }]);
  registry.gauge({ name: 'process_open_fds', help: 'Open file descriptors.' }, () => {
    const fds = openFds();
    return fds === null ? [] : [{ value: fds }];
  });
  registry.gauge({ name: 'process_max_fds', help: 'Most open file descriptors allowed.' }, () => {
    const max = maxFds();
    return max === null ? [] : [{ value: max }];
  });
  registry.gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since the Unix epoch, seconds.' }, () => [{ value: startSec }]);
  registry.gauge({ name: 'nodejs_eventloop_delay_seconds', help: "The event loop's delay since the last scrape: its 99th percentile and its maximum, seconds.", labelNames: ['quantile'], maxSeries: 2 }, () => {
    const samples = delay.count === 0 ? [] : [{ labels: { quantile: '0.99' }, value: delay.percentile(99) / 1e9 }, { labels: { quantile: '1' }, value: delay.max / 1e9 }];
    delay.reset();
    return samples;
  });
}
