// Encoding and decoding of OVSDB values (RFC 7047 §5.1): atoms, sets,
// maps, UUIDs. Pure; no node:* imports.
import type { OvsdbAtom, OvsdbMap, OvsdbSet, OvsdbValue } from './types.js';

export const uuid = (value: string): ['uuid', string] => ['uuid', value];
export const namedUuid = (name: string): ['named-uuid', string] => ['named-uuid', name];

export function ovsSet(atoms: Iterable<OvsdbAtom>): OvsdbSet {
  return ['set', [...atoms]];
}

/** A string→string map (external_ids, other_config, options). */
export function ovsMap(entries: Record<string, string> | Iterable<[string, string]>): OvsdbMap {
  const pairs = Symbol.iterator in entries ? [...(entries as Iterable<[string, string]>)] : Object.entries(entries);
  return ['map', pairs.map(([k, v]) => [k, v] as [OvsdbAtom, OvsdbAtom])];
}

function isTagged(value: unknown, tag: string): value is [string, unknown] {
  return Array.isArray(value) && value.length === 2 && value[0] === tag;
}

/** The elements of a set column (a bare atom is a one-element set). */
export function decodeSet(value: OvsdbValue | undefined): OvsdbAtom[] {
  if (value === undefined) return [];
  if (isTagged(value, 'set')) return (value as OvsdbSet)[1];
  if (isTagged(value, 'map')) throw new TypeError('expected an OVSDB set, got a map');
  return [value as OvsdbAtom];
}

/** The UUID of a `["uuid", U]` atom (or undefined for anything else). */
export function decodeUuid(atom: OvsdbAtom | OvsdbValue | undefined): string | undefined {
  return isTagged(atom, 'uuid') && typeof atom[1] === 'string' ? atom[1] : undefined;
}

/** All UUIDs referenced by a set-of-references column. */
export function decodeUuidSet(value: OvsdbValue | undefined): string[] {
  const out: string[] = [];
  for (const atom of decodeSet(value)) {
    const u = decodeUuid(atom);
    if (u !== undefined) out.push(u);
  }
  return out;
}

/** A string→string map column as a plain object (keys sorted as received). */
export function decodeStringMap(value: OvsdbValue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined) return out;
  if (!isTagged(value, 'map')) throw new TypeError('expected an OVSDB map');
  for (const [k, v] of (value as OvsdbMap)[1]) out[String(k)] = String(v);
  return out;
}

/** An optional scalar column (`min: 0, max: 1`): the atom, or null when empty. */
export function decodeOptional<T extends string | number | boolean>(value: OvsdbValue | undefined, kind: 'string' | 'number' | 'boolean'): T | null {
  const atoms = decodeSet(value);
  const first = atoms[0];
  return typeof first === kind ? (first as T) : null;
}

/** A required string column. */
export function decodeString(value: OvsdbValue | undefined): string {
  return typeof value === 'string' ? value : '';
}
