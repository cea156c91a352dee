// vifd wait PORT... --for Ready|Removed [--timeout S] [--state-dir DIR | --api ADDR]
// Exit 0 when every port reached the target for its current generation, 1 on
// timeout or when a port is Failed, Conflict or Invalid at that generation
// (each port's last phase and message printed), 2 on bad usage.
import type { ApiClient } from '../api/client.js';
import { portIdOf } from '../desired/port-id.js';
import { parseCommand, UsageError } from './options.js';
import { WAIT } from './option-tables.js';
import { ApiStatusError, apiClientFor } from './status-api.js';
import { judge, type PortNow, type Verdict, type WaitTarget } from './wait-judge.js';

const POLL_MS = 100;

async function portNow(client: ApiClient, port: string): Promise<PortNow> {
  const [binding, status] = await Promise.all([
    client.request<{ generation?: number }>('GET', `/v1/bindings/${port}`),
    client.request<{ phase: string; message: string; observedGeneration?: number }>('GET', `/v1/status/${port}`),
  ]);
  for (const res of [binding, status]) if (res.status !== 200 && res.status !== 404) throw new ApiStatusError(res.status, res.text);
  return {
    generation: binding.status === 200 ? (binding.body.generation ?? 0) : undefined,
    status: status.status === 200 ? status.body : undefined,
  };
}

export async function waitCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(WAIT, argv);
  const target = values.for;
  if (target !== 'Ready' && target !== 'Removed') throw new UsageError('--for must be Ready or Removed');
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError('--timeout must be a positive number of seconds');
  if (positionals.length === 0) throw new UsageError('wait takes one or more port UUIDs');
  const ports = positionals.map((p) => {
    const port = portIdOf(p);
    if (!port) throw new UsageError(`${JSON.stringify(p)} is not a port UUID`);
    return port;
  });
  const client = await apiClientFor(values.api ?? `unix:${values['state-dir']}/vifd.sock`, values['api-token-file']);
  try {
    return await waitFor(client, ports, target, Date.now() + timeout * 1000);
  } finally {
    client.destroy();
  }
}

async function waitFor(client: ApiClient, ports: string[], target: WaitTarget, deadline: number): Promise<number> {
  const last = new Map<string, { verdict: Verdict; now: PortNow }>();
  for (;;) {
    for (const port of ports) {
      if (last.get(port)?.verdict === 'reached') continue;
      const now = await portNow(client, port);
      last.set(port, { verdict: judge(target, now), now });
    }
    const verdicts = ports.map((p) => last.get(p)!.verdict);
    if (verdicts.every((v) => v === 'reached')) {
      // A change may have been accepted meanwhile: reached must hold for it too.
      let still = true;
      for (const port of ports) {
        const now = await portNow(client, port);
        const verdict = judge(target, now);
        last.set(port, { verdict, now });
        if (verdict !== 'reached') still = false;
      }
      if (still) return report(ports, last, target, 0);
    } else if (verdicts.some((v) => v === 'failed')) {
      return report(ports, last, target, 1);
    }
    if (Date.now() > deadline) return report(ports, last, target, 1, true);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function report(ports: string[], last: Map<string, { verdict: Verdict; now: PortNow }>, target: WaitTarget, code: number, timedOut = false): number {
  for (const port of ports) {
    const entry = last.get(port)!;
    const status = entry.now.status;
    const phase = status?.phase ?? (entry.now.generation === undefined ? 'Removed' : 'Pending');
    const note = entry.verdict === 'reached' ? '' : entry.verdict === 'failed' ? ' (failed)' : timedOut ? ` (timed out waiting for ${target})` : '';
    process.stdout.write(`${port} ${phase}${note}${status?.message ? `: ${status.message}` : ''}\n`);
  }
  return code;
}
