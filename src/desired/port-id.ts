// The port id: a UUID, lower-cased. It names files in the state directory, so
// nothing that is not exactly a UUID may ever be taken for one (a raw
// `"port": "../../etc/x"` from an invalid document must not become a path).
// Pure.
import { UUID_ANY_CASE, UUID_CANONICAL } from '../lib/uuid.js';

/** True only for a canonical (lower-case) port id. */
export function isPortId(value: unknown): value is string {
  return typeof value === 'string' && UUID_CANONICAL.test(value);
}

/** The canonical port id of a UUID in any case, or undefined for anything else. */
export function portIdOf(value: unknown): string | undefined {
  return typeof value === 'string' && UUID_ANY_CASE.test(value) ? value.toLowerCase() : undefined;
}
