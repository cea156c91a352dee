// After each test file: any vifd its tests started and did not stop (a test
// that failed or timed out before its cleanup) is killed, so none outlives
// the file (its namespace is gone by then; the daemon would idle forever).
import { afterAll } from 'vitest';
import { VifdProcess } from '../helpers/vifd-process.js';

afterAll(async () => {
  for (const vifd of [...VifdProcess.live]) {
    vifd.child.kill('SIGKILL');
    await vifd.exited;
  }
});
