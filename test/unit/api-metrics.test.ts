import { describe, expect, it } from 'vitest';
import { parseApiAddress } from '../../src/api/address.js';
import { ApiAddressError } from '../../src/api/errors.js';
import { debugGc } from '../../src/api/debug-gc.js';
import { parseMaxFds, parseProcStatus } from '../../src/api/process-metrics.js';
import { Histogram } from '../../src/api/prometheus.js';
import { VifdMetrics } from '../../src/api/vifd-metrics.js';
import type { RoundInfo } from '../../src/reconcile/reconciler.js';
import type { BindingStatus } from '../../src/model/status.js';

const status = (port: string, phase: BindingStatus['phase']): BindingStatus =>
  ({ port, phase, message: '', attempts: 0, lastTransitionTime: '', source: 'api', type: 'bridge', devices: [], libvirt: undefined }) as BindingStatus;
const round = (startedAt: number, acted: string[], errors: Error[] = []): RoundInfo => ({ startedAt, durationMs: 20, keys: acted.length, acted, errors, failed: false });

function metricsAt(clock: { t: number }) {
  const statuses: BindingStatus[] = [];
  const m = new VifdMetrics({ statuses: () => statuses, queueDepth: () => 3, hostCommands: () => ({ ip: 40, tc: 2 }), watchClients: () => 1, revision: () => 7 }, () => clock.t);
  return { m, statuses };
}

describe('Prometheus text', () => {
  it('renders cumulative histogram buckets, sum and count', () => {
    const h = new Histogram('x_seconds', 'X.', [0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    expect(h.render()).toEqual([
      '# HELP x_seconds X.',
      '# TYPE x_seconds histogram',
      'x_seconds_bucket{le="0.1"} 1',
      'x_seconds_bucket{le="1"} 2',
      'x_seconds_bucket{le="+Inf"} 3',
      'x_seconds_sum 5.55',
      'x_seconds_count 3',
    ]);
  });
});

describe('VifdMetrics', () => {
  it('counts rounds, errors by type, bindings by phase, queue depth, host commands', () => {
    const clock = { t: 0 };
    const { m, statuses } = metricsAt(clock);
    statuses.push(status('a', 'Ready'), status('b', 'Failed'));
    m.onRound(round(0, ['b'], [Object.assign(new Error('x'), { code: 'LINK_ACTION_FAILED' })]));
    m.onRound({ ...round(0, []), failed: true });
    const text = m.render();
    expect(text).toContain('vifd_reconcile_rounds_total 2');
    expect(text).toContain('vifd_reconcile_errors_total{type="LINK_ACTION_FAILED"} 1');
    expect(text).toContain('vifd_reconcile_errors_total{type="ROUND_FAILED"} 1');
    expect(text).toContain('vifd_bindings{phase="Ready"} 1');
    expect(text).toContain('vifd_bindings{phase="Failed"} 1');
    expect(text).toContain('vifd_queue_depth 3');
    expect(text).toContain('vifd_host_commands_total{command="ip"} 40');
    expect(text).toContain('vifd_host_commands_total{command="tc"} 2');
  });

  it('repair latency: from the link event before the round to Ready again, within one round', () => {
    const clock = { t: 1000 };
    const { m } = metricsAt(clock);
    m.onStatus('a', status('a', 'Ready'));
    m.onRound(round(1000, ['a'])); // new binding became Ready: not a repair
    expect(m.render()).toContain('vifd_repair_duration_seconds_count 0');
    clock.t = 5000;
    m.linkEvent();
    clock.t = 5010;
    m.onRound(round(5005, ['a'])); // Ready before and after, acted on: repaired
    expect(m.render()).toContain('vifd_repair_duration_seconds_count 1');
    expect(m.render()).toContain('vifd_repair_duration_seconds_sum 0.01');
  });

  it('repair latency across rounds: from leaving Ready to Ready again', () => {
    const clock = { t: 0 };
    const { m } = metricsAt(clock);
    m.onStatus('a', status('a', 'Ready'));
    m.onRound(round(0, []));
    clock.t = 100;
    m.onStatus('a', status('a', 'Failed'));
    m.onRound(round(90, ['a']));
    clock.t = 700;
    m.onStatus('a', status('a', 'Ready'));
    m.onRound(round(650, ['a']));
    expect(m.render()).toContain('vifd_repair_duration_seconds_count 1');
    expect(m.render()).toContain('vifd_repair_duration_seconds_sum 0.6');
  });
});

describe('--api addresses', () => {
  it('parses unix and loopback tcp, refuses the rest', () => {
    expect(parseApiAddress('unix:/run/vifd.sock')).toEqual({ kind: 'unix', path: '/run/vifd.sock' });
    expect(parseApiAddress('tcp:127.0.0.1:8787')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 8787 });
    expect(parseApiAddress('tcp:[::1]:8787')).toEqual({ kind: 'tcp', host: '::1', port: 8787 });
    for (const bad of ['unix:', 'tcp:0.0.0.0:80', 'tcp:10.0.0.1:80', 'tcp:127.0.0.1', 'tcp:127.0.0.1:70000', 'http://x']) {
      expect(() => parseApiAddress(bad), bad).toThrow(ApiAddressError);
    }
  });
});

describe('process metrics', () => {
  it('parses /proc/self/status and /proc/self/limits', () => {
    const text = 'Name:\tnode\nVmSize:\t 1000 kB\nVmRSS:\t  200 kB\nVmData:\t  300 kB\n';
    expect(parseProcStatus(text)).toEqual({ virtual: 1000 * 1024, resident: 200 * 1024, heap: 300 * 1024 });
    expect(parseProcStatus('Name:\tx\n')).toEqual({});
    expect(parseMaxFds('Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n')).toBe(1024);
  });

  it('are exported with the names Prometheus clients use, with this process\'s values', () => {
    const { m } = metricsAt({ t: 0 });
    const text = m.render();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'mu').exec(text)?.[1]);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(1024 * 1024);
    expect(value('nodejs_heap_size_used_bytes')).toBeLessThanOrEqual(value('nodejs_heap_size_total_bytes'));
    expect(value('process_heap_bytes')).toBeGreaterThan(0);
    expect(value('process_open_fds')).toBeGreaterThan(2);
    expect(value('process_max_fds')).toBeGreaterThanOrEqual(value('process_open_fds'));
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(Math.abs(value('process_start_time_seconds') - (Date.now() / 1000 - process.uptime()))).toBeLessThan(2);
    expect(text).toMatch(/^# TYPE process_cpu_seconds_total counter$/mu);
    expect(text).toMatch(/^nodejs_heap_space_size_used_bytes\{space="old"\} \d+$/mu);
    expect(text).toContain(`nodejs_version_info{version="${process.version}"`);
  });
});

describe('debug GC hook', () => {
  it('exists only with VIFD_DEBUG_GC=1 and an exposed gc', () => {
    let collected = 0;
    const gc = () => void collected++;
    expect(debugGc({}, gc)).toBeUndefined();
    expect(debugGc({ VIFD_DEBUG_GC: '1' }, undefined)).toBeUndefined();
    const hook = debugGc({ VIFD_DEBUG_GC: '1' }, gc);
    expect(hook?.().after.heapUsed).toBeGreaterThan(0);
    expect(collected).toBe(1);
  });
});

describe('etcd counters on /metrics', () => {
  it('exports the summary counters of the etcd source, and nothing when there is none', async () => {
    const { VifdMetrics } = await import('../../src/api/vifd-metrics.js');
    const base = { statuses: () => [], queueDepth: () => 0, hostCommands: () => ({}), watchClients: () => 0, revision: () => 0 };
    const withEtcd = new VifdMetrics({ ...base, summary: () => ({ etcdPermissionDenied: 3, etcdStale: 1, etcdRelists: 0 }) }).render();
    expect(withEtcd).toMatch(/^vifd_etcd_permission_denied_total 3$/mu);
    expect(withEtcd).toMatch(/^vifd_etcd_stale 1$/mu);
    expect(withEtcd).toMatch(/# TYPE vifd_etcd_relists_total counter/u);
    const without = new VifdMetrics({ ...base, summary: () => ({ total: 2 }) }).render();
    expect(without).not.toMatch(/^vifd_etcd_\w+ \d/mu);
  });
});
