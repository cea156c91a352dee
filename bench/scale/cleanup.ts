// Everything the benchmark creates (namespaces, processes, private OVS,
// temp dirs) is registered here as a synchronous undo step, run in reverse
// by the normal path (finally) and by SIGINT/SIGTERM/uncaught errors alike.
import { alive } from '../../test/support/procs.js';

type Step = { what: string; undo: () => void };

const steps: Step[] = [];

/** Registers an undo step; returns a function that runs it now (once). */
export function onCleanup(what: string, undo: () => void): () => void {
  const step: Step = { what, undo };
  steps.push(step);
  return () => {
    const i = steps.indexOf(step);
    if (i < 0) return;
    steps.splice(i, 1);
    runStep(step);
  };
}

function runStep(step: Step): void {
  try {
    step.undo();
  } catch (error) {
    process.stderr.write(`scale: cleanup of ${step.what} failed: ${String(error)}\n`);
  }
}

export function cleanupAll(): void {
  while (steps.length > 0) runStep(steps.pop()!);
}

/** Blocks the thread (only for the signal path, where there is no event loop to wait on). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** SIGTERM, up to `ms` for it to exit, then SIGKILL. Synchronous. */
export function terminateSync(pid: number, ms = 5000): void {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) sleepSync(20);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

let installed = false;
export function installSignalCleanup(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`scale: ${signal}: cleaning up\n`);
      cleanupAll();
      process.exit(130);
    });
  }
  process.once('uncaughtException', (error) => {
    process.stderr.write(`scale: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    cleanupAll();
    process.exit(1);
  });
}
