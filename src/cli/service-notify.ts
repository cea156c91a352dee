// `vifd run` under systemd (Type=notify): READY=1 once every source has loaded
// and the first round finished, STATUS= with the binding counts by phase,
// STOPPING=1 on the way out, and WATCHDOG=1 every WATCHDOG_USEC/2 — but only
// while the reconcile loop makes progress: no round has been running for
// longer than WATCHDOG_USEC. A wedged round (or a blocked event loop, which
// runs no timers at all) stops the pings and systemd restarts vifd.
import type { Logger } from 'pino';
import { NotifyHelper, type NotifySink } from '../host/sd-notify.js';

export interface WatchdogConfig {
  /** How often WATCHDOG=1 goes (half of WATCHDOG_USEC, as sd_watchdog_enabled advises). */
  intervalMs: number;
  /** A round running longer than this is wedged: no more pings. */
  stallMs: number;
}

/** The watchdog systemd asked for, if it is meant for this process. */
export function watchdogFromEnv(env: NodeJS.ProcessEnv, pid: number): WatchdogConfig | undefined {
  const usec = Number(env['WATCHDOG_USEC']);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  const forPid = env['WATCHDOG_PID'];
  if (forPid !== undefined && forPid !== '' && Number(forPid) !== pid) return undefined;
  return { intervalMs: Math.max(1, Math.floor(usec / 2000)), stallMs: Math.max(1, Math.floor(usec / 1000)) };
}

const PHASES = ['Ready', 'Pending', 'Failed', 'Invalid', 'Conflict', 'Removing'] as const;

/** The STATUS= text: what `systemctl status vifd` shows. */
export function statusText(state: 'starting' | 'running' | 'stopping', summary: Record<string, number> | undefined): string {
  if (!summary) return state === 'starting' ? 'starting: loading sources' : state;
  const total = summary['total'] ?? 0;
  const phases = PHASES.filter((p) => (summary[p] ?? 0) > 0).map((p) => `${summary[p]} ${p}`);
  const parts = [`${state}: ${total} binding${total === 1 ? '' : 's'}${phases.length ? ` (${phases.join(', ')})` : ''}`];
  if ((summary['queued'] ?? 0) > 0) parts.push(`${summary['queued']} queued`);
  if (summary['etcdStale'] === 1) parts.push('etcd unreachable: last known bindings kept');
  return parts.join('; ');
}

/** What the notifier watches once the daemon runs. */
export interface DaemonView {
  /** When the oldest round still running started; undefined: none runs. */
  busySince(): number | undefined;
  summary(): Record<string, number>;
}

export interface ServiceNotifierOptions {
  sink: NotifySink;
  watchdog: WatchdogConfig | undefined;
  logger: Logger;
  now?: () => number;
  /** How often STATUS= is refreshed (sent only when it changed). */
  statusEveryMs?: number;
}

export class ServiceNotifier {
  private daemon: DaemonView | undefined;
  private state: 'starting' | 'running' | 'stopping' = 'starting';
  private lastStatus: string | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private stalled = false;
  private readonly now: () => number;

  constructor(private readonly o: ServiceNotifierOptions) {
    this.now = o.now ?? Date.now;
    this.sendStatus();
    if (o.watchdog) this.every(o.watchdog.intervalMs, () => this.watchdogTick());
    this.every(o.statusEveryMs ?? 1000, () => this.sendStatus());
  }

  /** The daemon started: from now on its loop's progress decides the pings. */
  attach(daemon: DaemonView): void {
    this.daemon = daemon;
  }

  ready(): void {
    if (this.state === 'stopping') return;
    this.state = 'running';
    this.o.sink.send(['READY=1', `STATUS=${this.text()}`]);
    this.lastStatus = this.text();
  }

  stopping(): void {
    this.state = 'stopping';
    this.o.sink.send(['STOPPING=1', `STATUS=${this.text()}`]);
    this.lastStatus = this.text();
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.o.sink.close();
  }

  /** One watchdog period: ping if the loop is not wedged. */
  watchdogTick(): void {
    const stallMs = this.o.watchdog?.stallMs ?? Infinity;
    const since = this.daemon?.busySince();
    const runningFor = since === undefined ? 0 : this.now() - since;
    if (runningFor < stallMs) {
      if (this.stalled) this.o.logger.warn({ runningForMs: runningFor }, 'reconcile loop moving again; watchdog pings resume');
      this.stalled = false;
      this.o.sink.send(['WATCHDOG=1']);
      return;
    }
    if (!this.stalled) this.o.logger.error({ runningForMs: runningFor, stallMs }, 'reconcile round wedged: watchdog pings stop (systemd will restart vifd)');
    this.stalled = true;
  }

  private text(): string {
    return statusText(this.state, this.daemon?.summary());
  }

  private sendStatus(): void {
    const text = this.text();
    if (text === this.lastStatus) return;
    this.lastStatus = text;
    this.o.sink.send([`STATUS=${text}`]);
  }

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.timers.push(timer);
  }
}

/** A notifier when systemd gave vifd a NOTIFY_SOCKET; undefined otherwise.
 * Takes NOTIFY_SOCKET and WATCHDOG_* out of the environment (as
 * sd_notify's unset_environment does), so that no command vifd runs sends
 * to systemd or thinks the watchdog is its own. */
export function startServiceNotifier(logger: Logger, env: NodeJS.ProcessEnv = process.env): ServiceNotifier | undefined {
  const socket = env['NOTIFY_SOCKET'];
  const watchdog = watchdogFromEnv(env, process.pid);
  delete env['NOTIFY_SOCKET'];
  delete env['WATCHDOG_USEC'];
  delete env['WATCHDOG_PID'];
  if (!socket) return undefined;
  const sink = new NotifyHelper({ socket, onError: (error) => logger.error({ err: error }, 'systemd notifications stopped: vifd-notify failed') });
  logger.info({ notifySocket: socket, watchdogMs: watchdog?.intervalMs ?? null }, 'systemd notify socket in use');
  return new ServiceNotifier({ sink, watchdog, logger });
}
