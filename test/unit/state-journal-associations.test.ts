// The state modules vifd's crash safety rests on: the intent journal (names
// being created, so an unmarked device left by a kill is adopted, not a
// Conflict) and the association store (port profiles to undo after a crash).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssociationStore, type AssociationRecord } from '../../src/state/association-store.js';
import { IntentJournal } from '../../src/state/intent-journal.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vifd-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('IntentJournal', () => {
  it('records, reads back and clears the names being created', async () => {
    const j = new IntentJournal(dir, join(dir, 'run'));
    expect(await j.pending()).toEqual({ names: new Set(), corrupt: false });
    await j.record(['tapa', 'qvbb', 'qvob']);
    expect(JSON.parse(readFileSync(join(dir, 'intent.json'), 'utf8'))).toEqual({ creating: ['tapa', 'qvbb', 'qvob'] });
    expect((await new IntentJournal(dir).pending()).names).toEqual(new Set(['tapa', 'qvbb', 'qvob']));
    await j.record(['tapa']); // a rewrite replaces, it does not append
    expect((await j.pending()).names).toEqual(new Set(['tapa']));
    await j.clear();
    expect(await j.pending()).toEqual({ names: new Set(), corrupt: false });
    await j.clear(); // clearing nothing is fine
  });

  it('a state directory that cannot be written: the journal goes to the runtime directory, and is read back from there', async () => {
    const run = mkdtempSync(join(tmpdir(), 'vifd-run-'));
    try {
      mkdirSync(join(dir, 'intent.json')); // the primary cannot be written (as on a full or read-only disk)
      const j = new IntentJournal(dir, run);
      await j.record(['tapz']);
      expect(readdirSync(run).filter((n) => n.startsWith('intent-'))).toHaveLength(1);
      // A restart finds it: a tap made in that moment is adopted, not a Conflict forever.
      expect((await new IntentJournal(dir, run).pending()).names).toEqual(new Set(['tapz']));
      rmSync(join(dir, 'intent.json'), { recursive: true });
      await j.record(['tapy']); // the state directory works again: the fallback goes
      expect(readdirSync(run).filter((n) => n.startsWith('intent-'))).toEqual([]);
      expect((await j.pending()).names).toEqual(new Set(['tapy']));
      await j.clear();
      expect(await j.pending()).toEqual({ names: new Set(), corrupt: false });
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  });

  it('a corrupt journal counts as empty and says so; non-string names are dropped', async () => {
    writeFileSync(join(dir, 'intent.json'), '{"creating": ["ta');
    expect(await new IntentJournal(dir).pending()).toEqual({ names: new Set(), corrupt: true });
    writeFileSync(join(dir, 'intent.json'), '{"creating": ["tapa", 7, null]}');
    expect((await new IntentJournal(dir).pending()).names).toEqual(new Set(['tapa']));
  });
});

describe('AssociationStore', () => {
  const record = (port: string, state: AssociationRecord['state']): AssociationRecord => ({
    port, state, at: '2026-12-01T00:00:00.000Z',
    request: { kind: '802.1qbh', uplink: 'eth1', mac: 'fa:16:3e:00:00:01', instance: `inst-${port}`, profile: { profileId: 'p' } },
  });

  it('writes sorted by port and reads back what it wrote', async () => {
    const s = new AssociationStore(dir);
    await s.write([record('b', 'associated'), record('a', 'associating')]);
    const back = await s.read();
    expect(back.corrupt).toBe(false);
    expect(back.records.map((r) => [r.port, r.state])).toEqual([['a', 'associating'], ['b', 'associated']]);
  });

  it('missing is empty; corrupt is empty and reported', async () => {
    const s = new AssociationStore(dir);
    expect(await s.read()).toEqual({ records: [], corrupt: false });
    writeFileSync(s.path, 'not json');
    expect(await s.read()).toEqual({ records: [], corrupt: true });
    writeFileSync(s.path, JSON.stringify({ version: 1, associations: 'nope' }));
    expect((await s.read()).corrupt).toBe(true);
    // One malformed record (no instance) is dropped, the rest kept, and it is reported.
    await s.write([record('a', 'associated')]);
    const doc = JSON.parse(readFileSync(s.path, 'utf8')) as { associations: Array<Record<string, unknown>> };
    doc.associations.push({ ...doc.associations[0]!, port: 'b', request: { kind: '802.1qbh', uplink: 'eth1', mac: 'x', profile: {} } });
    writeFileSync(s.path, JSON.stringify(doc));
    const partial = await s.read();
    expect([partial.records.map((r) => r.port), partial.corrupt]).toEqual([['a'], true]);
  });
});
