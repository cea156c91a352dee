// TEST ONLY. With VIFD_TEST_WEDGE=1 in the environment, SIGUSR2 wedges the
// host adapter: every host snapshot taken afterwards never completes, so the
// round that asks for one hangs for good (as it would on a hung `ip` or
// netlink call). The watchdog test uses it to show that WATCHDOG=1 pings stop
// when the reconcile loop stops making progress. Without the variable the host
// is returned untouched and SIGUSR2 keeps its default meaning.
import type { Host } from './host.js';

export function wedgeableForTests<H extends Host>(host: H, env: NodeJS.ProcessEnv = process.env): H {
  if (env['VIFD_TEST_WEDGE'] !== '1') return host;
  let wedged = false;
  process.on('SIGUSR2', () => (wedged = true));
  const snapshot = host.snapshot.bind(host);
  host.snapshot = ((...args: Parameters<Host['snapshot']>) => (wedged ? new Promise<never>(() => undefined) : snapshot(...args))) as H['snapshot'];
  return host;
}
