// Which bridges, ports and interfaces differ between two OVS snapshots.
// Pure: no node:* imports.
import type { OvsSnapshot } from './parse-rows.js';

export interface OvsChange {
  /** Names added, removed or changed, sorted. */
  bridges: string[];
  ports: string[];
  interfaces: string[];
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function changedKeys<T>(prev: Map<string, T>, next: Map<string, T>): string[] {
  const out = new Set<string>();
  for (const [name, value] of next) if (!deepEqual(prev.get(name), value)) out.add(name);
  for (const name of prev.keys()) if (!next.has(name)) out.add(name);
  return [...out].sort();
}

export function diffSnapshots(prev: OvsSnapshot, next: OvsSnapshot): OvsChange {
  return {
    bridges: changedKeys(prev.bridges, next.bridges),
    ports: changedKeys(prev.ports, next.ports),
    interfaces: changedKeys(prev.interfaces, next.interfaces),
  };
}

export function isEmptyChange(change: OvsChange): boolean {
  return change.bridges.length === 0 && change.ports.length === 0 && change.interfaces.length === 0;
}

export function emptySnapshot(): OvsSnapshot {
  return { bridges: new Map(), ports: new Map(), interfaces: new Map() };
}
