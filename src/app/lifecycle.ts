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

  /** Stops every started part, last first; a failing stop does not stop the others. */
  async stopAll(): Promise<void> {
    for (const part of this.parts.splice(0).reverse()) {
      try {
        await part.stop();
      } catch (error) {
        this.logger.error({ err: error, part: part.name }, 'stopping failed');
      }
    }
  }
}
