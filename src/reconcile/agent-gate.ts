// A circuit breaker for a host agent every association of a kind goes
// through (lldpad for 802.1Qbg). When the agent is not running, every
// binding would fail the same way; instead of each one spawning its own
// attempts, one probe goes through after a shared, capped exponential wait,
// the others wait for it and all go when the agent answers again. Until the
// first answer (at start-up) the agent's state is unknown: one probe first.
import { backoffDelay } from '../lib/backoff.js';

export interface AgentGateOptions {
  now: () => number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** The gate opened again (after a wait, or because the agent answered): retry these. */
  onOpen: (ports: string[]) => void;
}

export class AgentGate {
  private failures = 0;
  private known = false;
  private downUntil = 0;
  private probe: string | undefined;
  private readonly waiting = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: AgentGateOptions) {}

  /** When the next attempt may go (0: now). */
  get retryAt(): number {
    return this.failures === 0 ? 0 : this.downUntil;
  }

  /** Has any attempt reached the agent, or found it down, yet? */
  get answered(): boolean {
    return this.known;
  }

  /** May `port` try now? While the agent is down (or not heard from yet)
   * only one probe goes at a time. */
  admit(port: string): boolean {
    if ((this.known && this.failures === 0) || this.probe === port) return true;
    if (this.probe !== undefined || this.o.now() < this.downUntil) {
      this.waiting.add(port);
      return false;
    }
    this.probe = port;
    return true;
  }

  /** An attempt found the agent not running. */
  down(port: string): void {
    if (this.probe === port) this.probe = undefined;
    this.known = true;
    this.failures++;
    const delay = backoffDelay(this.failures, { baseMs: this.o.baseDelayMs, maxMs: this.o.maxDelayMs });
    this.downUntil = this.o.now() + delay;
    this.waiting.add(port);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.release(), delay);
    this.timer.unref?.();
  }

  /** An attempt reached the agent (whatever it then answered). */
  up(port: string): void {
    if (this.probe === port) this.probe = undefined;
    const first = !this.known;
    this.known = true;
    if (this.failures === 0 && !first) return;
    this.failures = 0;
    if (this.timer) clearTimeout(this.timer);
    this.release();
  }

  /** A port no longer wants an association. */
  forget(port: string): void {
    this.waiting.delete(port);
    if (this.probe === port) this.probe = undefined;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private release(): void {
    const ports = [...this.waiting];
    this.waiting.clear();
    if (ports.length > 0) this.o.onOpen(ports);
  }
}
