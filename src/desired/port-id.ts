// The port id: a UUID, lower-cased. It names files in the state directory, so
// nothing that is not exactly a UUID may ever be taken for one (a raw
// `"port": "../../etc/x"` from an invalid document must not become a path).
// Pure.

const PORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u;
const ANY_CASE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/u;

/** True only for a canonical (lower-case) port id. */
export function isPortId(value: unknown): value is string {
  return typeof value === 'string' && PORT_ID.test(value);
}

/** The canonical port id of a UUID in any case, or undefined for anything else. */
export function portIdOf(value: unknown): string | undefined {
  return typeof value === 'string' && ANY_CASE.test(value) ? value.toLowerCase() : undefined;
}

export const UUID_PATTERN = ANY_CASE;
