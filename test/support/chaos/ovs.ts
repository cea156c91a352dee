// A private Open vSwitch the chaos harness breaks (SIGKILLs ovs-vswitchd),
// and the independent view of its tables that the host check compares with
// the desired bindings (also used by the OVS crash test).
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startOvs, startVswitchd, stopOvsDaemons, type PrivateOvs } from '../../helpers/ovs.js';
import { run } from '../exec.js';
import { alive } from '../procs.js';

export interface OvsInterface {
  name: string;
  externalIds: Record<string, string>;
}

export interface OvsView {
  /** bridge → port names */
  bridges: Map<string, string[]>;
  /** port name → number of Port rows with that name (and bridges listing it) */
  portRefs: Map<string, number>;
  interfaces: Map<string, OvsInterface[]>;
}

type OvsJsonTable = { headings: string[]; data: unknown[][] };

function ovsMap(cell: unknown): Record<string, string> {
  // ["map", [[k, v], ...]]
  const out: Record<string, string> = {};
  if (Array.isArray(cell) && cell[0] === 'map') for (const [k, v] of cell[1] as [string, string][]) out[k] = v;
  return out;
}

function ovsSet(cell: unknown): unknown[] {
  if (Array.isArray(cell) && cell[0] === 'set') return cell[1] as unknown[];
  return [cell];
}

/** Bridges, ports and interfaces of the OVSDB at `db` (`unix:PATH`). */
export async function ovsView(db: string): Promise<OvsView> {
  const text = await run([
    'ovs-vsctl', `--db=${db}`, '--timeout=10', '--format=json',
    '--', '--columns=_uuid,name,ports', 'list', 'Bridge',
    '--', '--columns=_uuid,name,interfaces', 'list', 'Port',
    '--', '--columns=_uuid,name,external_ids', 'list', 'Interface',
  ]);
  const tables = text.trim().split('\n').map((line) => JSON.parse(line) as OvsJsonTable);
  const [bridgesT, portsT, ifacesT] = tables;
  const uuidOf = (cell: unknown) => (Array.isArray(cell) ? String(cell[1]) : String(cell));
  const portName = new Map<string, string>();
  const portRefs = new Map<string, number>();
  for (const row of portsT?.data ?? []) portName.set(uuidOf(row[0]), String(row[1]));
  const bridges = new Map<string, string[]>();
  for (const row of bridgesT?.data ?? []) {
    const names = ovsSet(row[2]).map((c) => portName.get(uuidOf(c)) ?? '?');
    bridges.set(String(row[1]), names);
    for (const n of names) portRefs.set(n, (portRefs.get(n) ?? 0) + 1);
  }
  for (const name of portName.values()) if (!portRefs.has(name)) portRefs.set(name, 0);
  const interfaces = new Map<string, OvsInterface[]>();
  for (const row of ifacesT?.data ?? []) {
    const iface = { name: String(row[1]), externalIds: ovsMap(row[2]) };
    interfaces.set(iface.name, [...(interfaces.get(iface.name) ?? []), iface]);
  }
  return { bridges, portRefs, interfaces };
}

/** The private OVS of test/helpers/ovs.ts, driven asynchronously: the harness keeps polling while OVS is down. */
export class ChaosOvs {
  private constructor(private readonly ovs: PrivateOvs) {}

  /** Starts ovsdb-server and ovs-vswitchd serving `netns`, files in `dir` (kept after stop, with the run's logs). */
  static start(netns: string, dir: string): ChaosOvs {
    return new ChaosOvs(startOvs(netns, dir));
  }

  get db(): string {
    return this.ovs.address;
  }

  stop(): void {
    try {
      stopOvsDaemons(this.ovs);
    } catch {
      // already stopped
    }
  }

  vsctl(...args: string[]): Promise<string> {
    return run(['ovs-vsctl', `--db=${this.db}`, '--timeout=10', ...args]);
  }

  view(): Promise<OvsView> {
    return ovsView(this.db);
  }

  /** SIGKILLs ovs-vswitchd, leaves it down `downMs` once it is gone, and starts it again (ovsdb-server keeps running). */
  async killAndRestartVswitchd(downMs: number): Promise<void> {
    const pid = Number.parseInt(await run(['cat', join(this.ovs.dir, 'ovs-vswitchd.pid')], { allowFailure: true }), 10);
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(10);
    }
    await sleep(downMs);
    startVswitchd(this.ovs);
  }
}
