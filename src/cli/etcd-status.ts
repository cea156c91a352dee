// `vifd status --etcd URL`: the fleet (hosts alive, statuses by phase per
// host), or with --hostname one host's statuses as etcd has them.
import { join } from 'node:path';
import { createEtcdClient } from '../sources/etcd/connect.js';
import { fleetTable, readFleet } from '../sources/etcd/fleet.js';
import { statusPrefix } from '../sources/etcd/keys.js';
import type { BindingStatus } from '../model/status.js';
import { asObject, readJsonState } from '../state/json-state-file.js';
import { etcdConnectionOptions, type EtcdConnectionValues } from './etcd-args.js';
import { statusTable } from './status-table.js';

export async function etcdStatus(url: string, hostname: string | undefined, json: boolean, connection: EtcdConnectionValues = {}): Promise<number> {
  const { client, tls } = createEtcdClient(etcdConnectionOptions(url, connection));
  try {
    return await show(client, hostname, json);
  } finally {
    tls?.destroy();
  }
}

async function show(client: ReturnType<typeof createEtcdClient>['client'], hostname: string | undefined, json: boolean): Promise<number> {
  if (hostname === undefined) {
    const fleet = await readFleet(client);
    process.stdout.write((json ? JSON.stringify(fleet, null, 2) : fleetTable(fleet.hosts)) + '\n');
    return 0;
  }
  const { kvs } = await client.rangePrefix(statusPrefix(hostname));
  const statuses = kvs.flatMap((kv) => {
    try {
      const s = JSON.parse(kv.value) as Partial<BindingStatus>;
      return [{ devices: [], attempts: 0, message: '', ...s } as BindingStatus];
    } catch {
      return [];
    }
  });
  process.stdout.write((json ? JSON.stringify(statuses, null, 2) : `${statusTable(statuses)}\n${statuses.length} status(es) of ${hostname} in etcd`) + '\n');
  return 0;
}

/** A line about the etcd source from <state-dir>/summary.json, if it has one. */
export async function etcdSummaryLine(stateDir: string): Promise<string | undefined> {
  const { value: summary } = await readJsonState(join(stateDir, 'summary.json'), asObject);
  if (summary?.['etcdStale'] === undefined) return undefined;
  return `etcd: ${summary['etcdStale'] ? 'STALE (unreachable: last known desired state kept)' : 'live'}, revision ${String(summary['etcdRevision'] ?? '?')}, ${String(summary['etcdResumes'] ?? 0)} resume(s), ${String(summary['etcdRelists'] ?? 0)} relist(s)`;
}
