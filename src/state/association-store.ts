// <state-dir>/associations.json: the port-profile associations vifd made (or
// was making when it stopped), so that after a crash or restart it can
// disassociate ports no longer desired and re-check the others. Written
// atomically; a corrupt file counts as empty (and is reported).
import { join } from 'node:path';
import type { AssociationRequest } from '../model/association.js';
import { writeFileAtomic } from './atomic-write.js';
import { asObject, readJsonState } from './json-state-file.js';

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

  /** A record that is not one is dropped, and makes the file corrupt: the others still count. */
  async read(): Promise<{ records: AssociationRecord[]; corrupt: boolean }> {
    const { value, corrupt } = await readJsonState(this.path, (json) => {
      const associations = asObject(json)?.['associations'];
      if (!Array.isArray(associations)) return undefined;
      const records = associations.filter(isRecord);
      return { records, dropped: records.length !== associations.length };
    });
    return { records: value?.records ?? [], corrupt: corrupt || value?.dropped === true };
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
