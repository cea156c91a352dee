// Reading a JSON state file, written once. A state file is a cache of what
// vifd can rebuild (from the host, from etcd), so no content of it may stop
// vifd: a missing file is the empty state; a file that cannot be read, is not
// JSON, or that `parse` refuses is the empty state too, and `corrupt` says so
// (each caller decides what to log).
import { readFile } from 'node:fs/promises';
import { errorCode } from '../errors/vifd-error.js';

export interface JsonState<T> {
  /** undefined: the file is missing or corrupt. */
  value: T | undefined;
  corrupt: boolean;
}

/** `parse` checks the shape of the parsed JSON: undefined refuses it. */
export async function readJsonState<T>(path: string, parse: (json: unknown) => T | undefined): Promise<JsonState<T>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { value: undefined, corrupt: errorCode(error) !== 'ENOENT' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { value: undefined, corrupt: true };
  }
  const value = parse(json);
  return { value, corrupt: value === undefined };
}

/** A JSON object's fields, or undefined for anything else (arrays, null, numbers). */
export function asObject(json: unknown): Record<string, unknown> | undefined {
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
}
