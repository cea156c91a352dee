// Starts long-lived parts in order and stops them in reverse: on shutdown,
// and when a later part fails to start (a daemon never runs half-started:
// no headless vifd holding the lock without its API or link monitor).
import type { Logger } from 'pino';

export class Lifecycle {
  private readonly parts: Array<{ name: string; stop: () => Promise<void> | void }> = [];

  constructor(private readonly logger: Logger) {}

  /** Registers a started part's stop function (stopped after later parts). */
  started(name: string, stop: () => Promise<void> | void): void {
    this.parts.push({ name, stop });
  }

  /** Runs `start`; if it throws, everything started so far is stopped. */
  async step<T>(name: string, start: () => Promise<T> | T): Promise<T> {
    try {
      return await start();
    } catch (error) {
      this.logger.error({ err: error, part: name, code: (error as { code?: unknown }).code }, `${name} failed to start: stopping`);
      await this.stopAll();
      throw error;
    }
  }

  /** Stops every started part, last first; a failing stop does not stop the
   * others. Shutdown is bounded: a part gets at most `partMs`, all of them
   * together `totalMs`; a part that takes long is logged by name (so a slow
   * stop says where it waits), and once the total is spent the rest are
   * only told to stop. */
  async stopAll(partMs = 5_000, totalMs = 12_000): Promise<void> {
    const deadline = Date.now() + totalMs;
    for (const part of this.parts.splice(0).reverse()) {
      const started = Date.now();
      const budget = Math.max(0, Math.min(partMs, deadline - started));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), budget);
        timer.unref();
      });
      try {
        const stopping = Promise.resolve().then(() => part.stop());
        stopping.catch((error: unknown) => this.logger.error({ err: error, part: part.name }, 'stopping failed'));
        const outcome = await Promise.race([stopping.then(() => 'stopped' as const, () => 'stopped' as const), late]);
        const ms = Date.now() - started;
        if (outcome === 'late') this.logger.error({ part: part.name, waitedMs: ms }, 'a part did not stop in time: going on without it');
        else if (ms > 1000) this.logger.warn({ part: part.name, ms }, 'a part was slow to stop');
        else this.logger.debug({ part: part.name, ms }, 'stopped');
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
