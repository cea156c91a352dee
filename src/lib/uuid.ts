// UUID text patterns, written once (port ids, instance ids, host UUIDs, the
// state files named after ports). No `i` flag: the desired schema's pattern is
// published as JSON Schema, which keeps a regex's source and drops its flags;
// no `g` flag: shared, `test` keeps no state between calls. Pure.

const DASHED_LOWER = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const HEX = '[0-9a-fA-F]';

/** The canonical form: lower-case, dashed. */
export const UUID_CANONICAL = new RegExp(`^${DASHED_LOWER}$`, 'u');

/** Dashed, in any case. */
export const UUID_ANY_CASE = new RegExp(`^${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12}$`, 'u');

/** Any case, each dash optional: where only the 32 hex digits matter (a UUID's 16 bytes on the wire). */
export const UUID_LOOSE = new RegExp(`^${HEX}{8}-?${HEX}{4}-?${HEX}{4}-?${HEX}{4}-?${HEX}{12}$`, 'u');

/** `<canonical uuid>.json`, the UUID in group 1: a file named after a port. */
export const UUID_JSON_FILE = new RegExp(`^(${DASHED_LOWER})\\.json$`, 'u');
