// The process metrics Prometheus clients export by default (prom-client's
// collectDefaultMetrics, same names and meaning), read when scraped: CPU,
// memory (from /proc/self/status on Linux), file descriptors, start time,
// the V8 heap and the Node.js version. An operator sees growth before it
// hurts. Reading /proc is a few small synchronous reads per scrape.
import { readdirSync, readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { Gauge, type Metric } from './prometheus.js';

/** VmRSS, VmSize and VmData from /proc/self/status, in bytes (Linux only). */
export function parseProcStatus(text: string): { resident?: number; virtual?: number; heap?: number } {
  const kb = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'mu').exec(text);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  const out: { resident?: number; virtual?: number; heap?: number } = {};
  const resident = kb('VmRSS');
  const virtual = kb('VmSize');
  const heap = kb('VmData');
  if (resident !== undefined) out.resident = resident;
  if (virtual !== undefined) out.virtual = virtual;
  if (heap !== undefined) out.heap = heap;
  return out;
}

/** The soft limit on open files, from /proc/self/limits. */
export function parseMaxFds(text: string): number | undefined {
  const match = /^Max open files\s+(\d+)/mu.exec(text);
  return match ? Number(match[1]) : undefined;
}

function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

export function processMetrics(): Metric[] {
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  const status = () => readOr(() => parseProcStatus(readFileSync('/proc/self/status', 'utf8')), {});
  const one = (value: number | undefined) => (value === undefined ? [] : [{ value }]);
  const cpu = () => process.cpuUsage();
  const [major = '0', minor = '0', patch = '0'] = process.versions.node.split('.');
  return [
    new Gauge('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', () => [{ value: cpu().user / 1e6 }], 'counter'),
    new Gauge('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', () => [{ value: cpu().system / 1e6 }], 'counter'),
    new Gauge('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', () => {
      const { user, system } = cpu();
      return [{ value: (user + system) / 1e6 }];
    }, 'counter'),
    new Gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => [{ value: startTime }]),
    new Gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => one(status().resident ?? process.memoryUsage.rss())),
    new Gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', () => one(status().virtual)),
    new Gauge('process_heap_bytes', 'Process heap size in bytes (VmData: the data segment, V8 heap included).', () => one(status().heap)),
    new Gauge('process_open_fds', 'Number of open file descriptors.', () => one(readOr(() => readdirSync('/proc/self/fd').length, undefined))),
    new Gauge('process_max_fds', 'Maximum number of open file descriptors.', () => one(readOr(() => parseMaxFds(readFileSync('/proc/self/limits', 'utf8')), undefined))),
    new Gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', () => [{ value: process.memoryUsage().heapTotal }]),
    new Gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', () => [{ value: process.memoryUsage().heapUsed }]),
    new Gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', () => [{ value: process.memoryUsage().external }]),
    ...(['total', 'used', 'available'] as const).map(
      (kind) =>
        new Gauge(`nodejs_heap_space_size_${kind}_bytes`, `Process heap space size ${kind} from Node.js in bytes.`, () =>
          getHeapSpaceStatistics().map((s) => ({
            labels: { space: s.space_name.replace(/_space$/u, '') },
            value: kind === 'total' ? s.space_size : kind === 'used' ? s.space_used_size : s.space_available_size,
          })),
        ),
    ),
    new Gauge('nodejs_active_resources_total', 'Number of active resources keeping the event loop alive (timers, sockets, child processes...).', () => [
      { value: process.getActiveResourcesInfo().length },
    ]),
    new Gauge('nodejs_version_info', 'Node.js version info.', () => [{ labels: { version: process.version, major, minor, patch }, value: 1 }]),
  ];
}
