// vifd status: the per-binding status a running (or stopped) vifd recorded.
import { statusTable } from './status-table.js';
import { asObject, readJsonState } from '../state/json-state-file.js';
import { StatusStore } from '../state/status-store.js';
import type { BindingStatus } from '../model/status.js';
import { parseCommand } from './options.js';
import { STATUS } from './option-tables.js';
import { join } from 'node:path';
import { apiClientFor, fetchStatuses, type InvalidDocumentView } from './status-api.js';
import { watchStatus } from './status-watch.js';
import { etcdStatus, etcdSummaryLine } from './etcd-status.js';

/** The invalid documents the running vifd last wrote to summary.json. */
async function invalidDocumentsIn(stateDir: string): Promise<InvalidDocumentView[]> {
  const { value } = await readJsonState(join(stateDir, 'summary.json'), (json) => {
    const documents = asObject(json)?.['invalidDocuments'];
    return Array.isArray(documents) ? (documents as InvalidDocumentView[]) : undefined;
  });
  return value ?? [];
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(STATUS, argv);
  if (values.etcd !== undefined) return etcdStatus(values.etcd, values.hostname, values.json, values);
  // --api reads a running vifd; --watch follows it (default: its socket in the state dir).
  const client = values.api !== undefined || values.watch ? await apiClientFor(values.api ?? `unix:${values['state-dir']}/vifd.sock`, values['api-token-file']) : undefined;
  if (client && values.watch) {
    const stop = new AbortController();
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
    return watchStatus(client, process.stdout, stop.signal);
  }
  const fetched = client ? await fetchStatuses(client).finally(() => client.destroy()) : undefined;
  const { statuses, corrupt } = fetched ? { statuses: fetched.items, corrupt: [] } : await new StatusStore(values['state-dir']).readAll();
  const documents = fetched ? (fetched.invalidDocuments ?? []) : await invalidDocumentsIn(values['state-dir']);
  if (values.json) {
    process.stdout.write(JSON.stringify(statuses, null, 2) + '\n');
  } else {
    process.stdout.write(statusTable(statuses) + '\n');
    const byPhase = new Map<string, number>();
    for (const s of statuses) byPhase.set(s.phase, (byPhase.get(s.phase) ?? 0) + 1);
    process.stdout.write(`${statuses.length} binding(s): ${[...byPhase].map(([p, n]) => `${n} ${p}`).join(', ') || 'none'}\n`);
    // Documents that name no port show up by their source (file name).
    for (const d of documents) {
      for (const p of d.problems) process.stdout.write(`invalid document ${d.source}: ${p.path}: ${p.message}\n`);
    }
    const etcdLine = await etcdSummaryLine(values['state-dir']);
    if (etcdLine) process.stdout.write(etcdLine + '\n');
  }
  for (const name of corrupt) process.stderr.write(`vifd: corrupt status file ${name} skipped\n`);
  return 0;
}
