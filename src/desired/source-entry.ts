// One source document in the desired store (its last valid version, the
// problems of its latest) and the small pure helpers the store reads it with.
import type { ParseResult } from './parse.js';
import type { Problem } from './problem.js';
import type { DocumentKind, PortBinding } from './schema.js';
import { resolveSpec, type BindingSpec } from './spec.js';

export interface SourceEntry {
  id: string;
  /** Last version that validated; stays applied while the source is invalid. */
  lastValid: PortBinding[] | undefined;
  /** Problems of the latest version, if it did not validate. */
  problems: Problem[] | undefined;
  /** Ports the latest version makes Invalid, each with the problems that concern it. */
  invalidPorts: ReadonlyMap<string, Problem[]>;
  /** The kind of document the applied bindings came from. */
  documentKind?: DocumentKind;
}

/** The source added last among those (its problems are reported). */
export function latest(sources: ReadonlyMap<string, number> | undefined): string | undefined {
  let last: [string, number] | undefined;
  for (const entry of sources ?? []) if (!last || entry[1] > last[1]) last = entry;
  return last?.[0];
}

// Bindings are immutable once parsed: resolve each once, not on every view.
const specs = new WeakMap<PortBinding, BindingSpec>();
export function specOf(binding: PortBinding): BindingSpec {
  let spec = specs.get(binding);
  if (!spec) {
    spec = resolveSpec(binding);
    specs.set(binding, spec);
  }
  return spec;
}

export function portsOf(entry: SourceEntry | undefined): string[] {
  if (!entry) return [];
  return [...new Set([...(entry.lastValid?.map((b) => b.port) ?? []), ...entry.invalidPorts.keys()])];
}

export const NO_PROBLEMS: ReadonlyMap<string, Problem[]> = new Map();

export const byPort = (entry: SourceEntry | undefined): Map<string, PortBinding> => new Map((entry?.lastValid ?? []).map((b) => [b.port, b]));

// Entries are immutable: index each one's bindings once (a list's ports are
// looked up one by one).
const indexes = new WeakMap<SourceEntry, Map<string, PortBinding>>();
export function bindingIn(entry: SourceEntry, port: string): PortBinding | undefined {
  let index = indexes.get(entry);
  if (!index) indexes.set(entry, (index = byPort(entry)));
  return index.get(port);
}

/** What a source says for one port (its binding and problems), comparable. */
export function saysFor(entry: SourceEntry | undefined, bindings: ReadonlyMap<string, PortBinding>, port: string): string {
  if (!entry) return '';
  const binding = bindings.get(port);
  const problems = entry.invalidPorts.get(port);
  return binding || problems ? JSON.stringify([binding ?? null, problems ?? null]) : '';
}

/** A source's entry after a new parse: what stays applied and what is Invalid.
 * - valid: exactly its bindings;
 * - a list read item by item: valid items applied; a bad item with a readable
 *   port keeps that port's last valid version and is Invalid; while any bad
 *   item names no port, ports the list no longer shows are kept too (the bad
 *   item may be one of them);
 * - unreadable as a whole: everything applied before stays, all Invalid. */
export function nextEntry(id: string, previous: SourceEntry | undefined, result: ParseResult): SourceEntry {
  if (result.ok) {
    return { id, lastValid: result.bindings, problems: undefined, invalidPorts: NO_PROBLEMS, documentKind: result.documentKind ?? 'PortBinding' };
  }
  const before = new Map((previous?.lastValid ?? []).map((b) => [b.port, b]));
  if (!result.items) {
    const invalidPorts = new Map<string, Problem[]>();
    for (const port of [...before.keys(), ...result.ports]) invalidPorts.set(port, result.problems);
    return { id, lastValid: previous?.lastValid, problems: result.problems, invalidPorts, ...(previous?.documentKind ? { documentKind: previous.documentKind } : {}) };
  }
  const applied = new Map<string, PortBinding>();
  const invalidPorts = new Map<string, Problem[]>();
  let unattributed = false;
  for (const item of result.items) {
    if (item.ok) applied.set(item.binding.port, item.binding);
    else if (item.port === undefined) unattributed = true;
    else {
      invalidPorts.set(item.port, [...(invalidPorts.get(item.port) ?? []), ...item.problems]);
      const last = before.get(item.port);
      if (last && !applied.has(item.port)) applied.set(item.port, last);
    }
  }
  if (unattributed) for (const [port, binding] of before) if (!applied.has(port)) applied.set(port, binding);
  const lastValid = applied.size > 0 || previous?.lastValid ? [...applied.values()] : undefined;
  return { id, lastValid, problems: result.problems, invalidPorts, documentKind: 'PortBindingList' };
}
