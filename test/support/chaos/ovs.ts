// A private Open vSwitch the chaos harness breaks (SIGKILLs ovs-vswitchd),
// and the independent view of its tables that the host check compares with
// the desired bindings (also used by the OVS crash test).
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../exec.js';

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

/** A private OVS (ovsdb-server + ovs-vswitchd, userspace datapath) serving the namespace. */
export class PrivateOvs {
  readonly sock: string;
  constructor(
    readonly script: string,
    readonly netns: string,
    readonly dir: string,
  ) {
    this.sock = `${dir}/db.sock`;
  }

  get db(): string {
    return `unix:${this.sock}`;
  }

  async start(): Promise<void> {
    await run(['bash', this.script, 'start', this.netns, this.dir]);
  }

  async stop(): Promise<void> {
    await run(['bash', this.script, 'stop', this.netns, this.dir], { allowFailure: true });
  }

  vsctl(...args: string[]): Promise<string> {
    return run(['ovs-vsctl', `--db=${this.db}`, '--timeout=10', ...args]);
  }

  view(): Promise<OvsView> {
    return ovsView(this.db);
  }

  async vswitchdPid(): Promise<number | undefined> {
    const text = await run(['cat', `${this.dir}/ovs-vswitchd.pid`], { allowFailure: true });
    const pid = Number.parseInt(text, 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /** SIGKILLs ovs-vswitchd and starts it again (ovsdb-server keeps running). */
  async killAndRestartVswitchd(downMs: number): Promise<void> {
    const pid = await this.vswitchdPid();
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await sleep(10);
      }
    }
    await sleep(downMs);
    await run(['rm', '-f', `${this.dir}/ovs-vswitchd.pid`]);
    await run(
      ['ip', 'netns', 'exec', this.netns, 'env', `OVS_RUNDIR=${this.dir}`, `OVS_LOGDIR=${this.dir}`, `OVS_DBDIR=${this.dir}`,
        'ovs-vswitchd', this.db, `--pidfile=${this.dir}/ovs-vswitchd.pid`, '--detach', `--log-file=${this.dir}/ovs-vswitchd.log`,
        `--unixctl=${this.dir}/ovs-vswitchd.ctl`],
    );
  }
}
