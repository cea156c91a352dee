// <state-dir>/associations.json: the port-profile associations vifd made (or
// was making when it stopped), so that after a crash or restart it can
// disassociate ports no longer desired and re-check the others. Written
// atomically; a corrupt file counts as empty (and is reported).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AssociationRequest } from '../model/association.js';
import { writeFileAtomic } from './atomic-write.js';

export interface AssociationRecord {
  port: string;
  request: AssociationRequest;
  /** 'associating': the request was sent and may have taken effect. */
  state: 'associating' | 'associated';
  at: string;
}

export class AssociationStore {
  readonly path: string;
  constructor(stateDir: string) {
    this.path = join(stateDir, 'associations.json');
  }

  async write(records: Iterable<AssociationRecord>): Promise<void> {
    const list = [...records].sort((a, b) => a.port.localeCompare(b.port));
    await writeFileAtomic(this.path, JSON.stringify({ version: 1, associations: list }, null, 2) + '\n');
  }

  async read(): Promise<{ records: AssociationRecord[]; corrupt: boolean }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return { records: [], corrupt: false };
    }
    try {
      const value = JSON.parse(text) as { associations?: unknown };
      if (!Array.isArray(value.associations)) return { records: [], corrupt: true };
      const records = value.associations.filter(isRecord);
      return { records, corrupt: records.length !== value.associations.length };
    } catch {
      return { records: [], corrupt: true };
    }
  }
}

function isRecord(v: unknown): v is AssociationRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<AssociationRecord>;
  const q = r.request as Partial<AssociationRequest> | undefined;
  return (
    typeof r.port === 'string' && (r.state === 'associating' || r.state === 'associated') && typeof r.at === 'string' &&
    typeof q === 'object' && q !== null && (q.kind === '802.1qbg' || q.kind === '802.1qbh') &&
    typeof q.uplink === 'string' && typeof q.mac === 'string' && typeof q.instance === 'string' && typeof q.profile === 'object' && q.profile !== null
  );
}
