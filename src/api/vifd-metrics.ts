// vifd's Prometheus metrics, fed by the reconciler's hooks (rounds, status
// changes), kernel link events and the API itself, plus the default process
// metrics of Prometheus clients (process-metrics.ts).
//
// Repair latency is approximate: it runs from the earliest kernel link event
// seen before the round that found a Ready binding broken (or that round's
// start, without such an event) until the binding is verified Ready again. A
// repair that needs several rounds counts from the moment its status left
// Ready. Link events unrelated to the binding may start the clock early.
import type { RoundInfo } from '../reconcile/reconciler.js';
import type { BindingStatus, Phase } from '../model/status.js';
import { processMetrics } from './process-metrics.js';
import { Counter, Gauge, Histogram, Registry } from './prometheus.js';

export interface MetricsSources {
  statuses: () => readonly BindingStatus[];
  queueDepth: () => number;
  /** Processes started, by program name. */
  hostCommands: () => Readonly<Record<string, number>>;
  /** The host adapter's netlink counters; absent: not exported. */
  netlink?: () => { netlinkRequests: number; linkEventsLost: number; linkModelDrift: number };
  watchClients: () => number;
  revision: () => number;
  /** The daemon's summary counters (etcd's among them, when --etcd is given). */
  summary?: () => Record<string, unknown>;
}

/** Summary counters exported as metrics: name → [metric, help, type]. */
const SUMMARY_METRICS: ReadonlyArray<[string, string, string, 'gauge' | 'counter']> = [
  ['etcdStale', 'vifd_etcd_stale', 'etcd is unreachable and vifd applies its last known state (1) or not (0).', 'gauge'],
  ['etcdRelists', 'vifd_etcd_relists_total', 'Full re-reads of the etcd prefix (after a compaction).', 'counter'],
  ['etcdResumes', 'vifd_etcd_watch_resumes_total', 'etcd watches resumed from the last revision.', 'counter'],
  ['etcdConfigErrors', 'vifd_etcd_config_errors_total', 'etcd refused vifd for its configuration (TLS, credentials, permissions).', 'counter'],
  ['etcdTlsHandshakeFailures', 'vifd_etcd_tls_handshake_failures_total', 'TLS handshakes with etcd that failed.', 'counter'],
  ['etcdTlsReloads', 'vifd_etcd_tls_reloads_total', 'Times new TLS certificate files were loaded.', 'counter'],
  ['etcdTlsFileFailures', 'vifd_etcd_tls_file_failures_total', 'Rotated TLS files that could not be used (the last good ones stay).', 'counter'],
  ['etcdAuthFailures', 'vifd_etcd_auth_failures_total', 'etcd authentications refused.', 'counter'],
  ['etcdPermissionDenied', 'vifd_etcd_permission_denied_total', 'etcd requests refused for lack of permission.', 'counter'],
  ['etcdAuthentications', 'vifd_etcd_authentications_total', 'etcd authentications (token fetched or refreshed).', 'counter'],
  ['desiredResyncs', 'vifd_desired_dir_resyncs_total', 'Re-reads of the desired directory: the periodic resync, and one after the watch (re)starts, a ConfigMap ..data swap, a burst of events or an event without a name, and each poll while the directory cannot be watched.', 'counter'],
  [
    'desiredResyncCpuSeconds',
    'vifd_desired_dir_resync_cpu_seconds_total',
    "CPU seconds (user + system, of the whole process, measured around the resync's own synchronous steps) spent re-reading the desired directory: listing it, one stat per file, and reading and parsing the files that differ. Not included: the reconcile rounds the changes start, and the host dump.",
    'counter',
  ],
  ['resyncs', 'vifd_resyncs_total', 'Periodic (and reconnect) resyncs: sources re-read, the host dumped, unsettled keys queued.', 'counter'],
  [
    'resyncCpuSeconds',
    'vifd_resync_cpu_seconds_total',
    "CPU seconds (user + system, whole process, from the resync's start until its keys are queued) of resyncs: the sources' re-reads, the link dump and its comparison with the model. Not included: the rounds over the queued keys.",
    'counter',
  ],
];

const PHASES: readonly Phase[] = ['Pending', 'Ready', 'Detached', 'Failed', 'Invalid', 'Conflict', 'Removing'];
const EVENT_LOOKBACK_MS = 5_000;
const READINESS_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class VifdMetrics {
  private readonly registry = new Registry();
  private readonly rounds = this.registry.add(new Counter('vifd_reconcile_rounds_total', 'Reconcile rounds run.'));
  private readonly keys = this.registry.add(new Counter('vifd_reconcile_keys_total', 'Keys (bindings, links) processed by reconcile rounds.'));
  private readonly errors = this.registry.add(new Counter('vifd_reconcile_errors_total', 'Reconcile errors by type: action error codes, ROUND_FAILED for a round that threw.'));
  private readonly problems = this.registry.add(new Counter('vifd_binding_problem_transitions_total', 'Bindings entering Failed, Conflict, Invalid or Detached (a tap a hypervisor held was recreated).'));
  private readonly roundSeconds = this.registry.add(
    new Histogram('vifd_reconcile_round_duration_seconds', 'Duration of reconcile rounds.', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  );
  private readonly repairSeconds = this.registry.add(
    new Histogram('vifd_repair_duration_seconds', 'Approximate time from a Ready binding found broken to Ready again.', [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]),
  );
  private readonly apiRequests = this.registry.add(new Counter('vifd_api_requests_total', 'API requests by method, route and status code.'));
  private readonly apiSeconds = this.registry.add(
    new Histogram('vifd_api_request_duration_seconds', 'API request latency (watch streams excluded).', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]),
  );

  // Readiness latencies (docs/design.md §5): from a binding's desired change
  // to vifd's part done (plugged), and to Ready (its readiness gate held).
  private readonly pluggedSeconds = this.registry.add(
    new Histogram('vifd_desired_to_plugged_seconds', 'Time from a desired change to the binding plugged.', READINESS_BUCKETS),
  );
  private readonly readySeconds = this.registry.add(
    new Histogram('vifd_desired_to_ready_seconds', 'Time from a desired change to the binding Ready (its readiness gate held).', READINESS_BUCKETS),
  );

  private readonly phases = new Map<string, Phase>();
  private readonly brokenSince = new Map<string, number>();
  private readonly enteredReady = new Set<string>();
  private linkEvents: number[] = [];

  constructor(private readonly sources: MetricsSources, private readonly now: () => number = () => Date.now()) {
    this.registry.add(new Gauge('vifd_queue_depth', 'Keys waiting in the work queue.', () => [{ value: sources.queueDepth() }]));
    if (sources.summary) {
      const summary = sources.summary;
      for (const [key, name, help, type] of SUMMARY_METRICS) {
        this.registry.add(new Gauge(name, help, () => {
          const value = summary()[key];
          return typeof value === 'number' ? [{ value }] : [];
        }, type));
      }
    }
    this.registry.add(
      new Gauge('vifd_bindings', 'Bindings by phase.', () => {
        const counts = new Map<string, number>(PHASES.map((p) => [p, 0]));
        for (const s of sources.statuses()) counts.set(s.phase, (counts.get(s.phase) ?? 0) + 1);
        return [...counts].map(([phase, value]) => ({ labels: { phase }, value }));
      }),
    );
    this.registry.add(
      new Gauge(
        'vifd_host_commands_total',
        'Processes vifd started, by program (ip, tc, sync, vdptool, and the native helpers vifd-netlink and vifd-notify). Link observation starts none per round; OVS changes go over the OVSDB socket.',
        () => Object.entries(sources.hostCommands()).map(([command, value]) => ({ labels: { command }, value })),
        'counter',
      ),
    );
    if (sources.netlink) {
      const netlink = sources.netlink;
      this.registry.add(new Gauge('vifd_netlink_requests_total', 'Netlink requests sent on the link socket of the managed namespace (dumps, barriers, link changes).', () => [{ value: netlink().netlinkRequests }], 'counter'));
      this.registry.add(
        new Gauge('vifd_link_events_lost_total', 'Times kernel link events were lost (socket overrun or netlink helper restart), each followed by a full link re-dump.', () => [{ value: netlink().linkEventsLost }], 'counter'),
      );
      this.registry.add(
        new Gauge(
          'vifd_link_model_drift_total',
          'Periodic full link dumps that differed from the event-fed link model although no events were lost: a bug (the names are logged at error; the dump wins).',
          () => [{ value: netlink().linkModelDrift }],
          'counter',
        ),
      );
    }
    this.registry.add(new Gauge('vifd_watch_clients', 'Connected watch streams.', () => [{ value: sources.watchClients() }]));
    this.registry.add(new Gauge('vifd_status_revision', 'Latest status revision (GET /v1/watch).', () => [{ value: sources.revision() }]));
    for (const metric of processMetrics()) this.registry.add(metric);
    for (const s of sources.statuses()) this.phases.set(s.port, s.phase);
  }

  /** Entries held per collection (bounded by the bindings that exist). */
  sizes(): { phases: number; brokenSince: number; enteredReady: number; linkEvents: number } {
    return { phases: this.phases.size, brokenSince: this.brokenSince.size, enteredReady: this.enteredReady.size, linkEvents: this.linkEvents.length };
  }

  render(): string {
    return this.registry.render();
  }

  linkEvent(): void {
    this.linkEvents.push(this.now());
    if (this.linkEvents.length > 4096) this.linkEvents = this.linkEvents.slice(-2048);
  }

  apiRequest(method: string, route: string, code: number, seconds: number | undefined): void {
    this.apiRequests.inc({ method, route, code: String(code) });
    if (seconds !== undefined) this.apiSeconds.observe(seconds, { route });
  }

  onStatus(port: string, status: BindingStatus | undefined): void {
    const now = this.now();
    const previous = { phase: this.phases.get(port) };
    if (!status) {
      this.phases.delete(port);
      this.brokenSince.delete(port);
      return;
    }
    this.phases.set(port, status.phase);
    if (status.phase !== previous.phase && (status.phase === 'Failed' || status.phase === 'Conflict' || status.phase === 'Invalid' || status.phase === 'Detached')) {
      this.problems.inc({ phase: status.phase });
    }
    if (previous.phase === 'Ready' && status.phase !== 'Ready' && status.phase !== 'Removing' && !this.brokenSince.has(port)) {
      const recent = this.linkEvents.filter((at) => now - at <= EVENT_LOOKBACK_MS);
      this.brokenSince.set(port, Math.min(now, ...recent));
    }
    if (status.phase === 'Ready' && previous.phase !== 'Ready') {
      this.enteredReady.add(port);
      const since = this.brokenSince.get(port);
      if (since !== undefined) {
        this.repairSeconds.observe((now - since) / 1000);
        this.brokenSince.delete(port);
      }
    }
  }

  onRound(info: RoundInfo): void {
    this.rounds.inc();
    this.keys.inc({}, info.keys);
    this.roundSeconds.observe(info.durationMs / 1000);
    if (info.failed) this.errors.inc({ type: 'ROUND_FAILED' });
    for (const s of info.pluggedSeconds ?? []) this.pluggedSeconds.observe(s);
    for (const s of info.readySeconds ?? []) this.readySeconds.observe(s);
    for (const error of info.errors) this.errors.inc({ type: String((error as { code?: unknown }).code ?? error.name) });
    // Repairs finished within this one round: Ready before and after, acted on.
    const detected = this.detectionTime(info.startedAt);
    for (const port of info.acted) {
      if (this.phases.get(port) === 'Ready' && !this.enteredReady.has(port) && !this.brokenSince.has(port)) {
        this.repairSeconds.observe(Math.max(0, this.now() - detected) / 1000);
      }
    }
    this.enteredReady.clear();
  }

  /** The earliest link event shortly before the round started, else its start. */
  private detectionTime(startedAt: number): number {
    let earliest = startedAt;
    const keep: number[] = [];
    for (const at of this.linkEvents) {
      if (at > startedAt) keep.push(at);
      else if (startedAt - at <= EVENT_LOOKBACK_MS) earliest = Math.min(earliest, at);
    }
    this.linkEvents = keep;
    return earliest;
  }

  counter(name: 'rounds' | 'errors', labels: Record<string, string> = {}): number {
    return name === 'rounds' ? this.rounds.get(labels) : this.errors.get(labels);
  }
}
