// An etcd key's value → the store's ParseResult, with the etcd-specific rule:
// one PortBinding per key, whose port is the key's last segment. Pure.
import { parseDocumentText, type ParseResult } from '../../desired/parse.js';
import { portIdOf } from '../../desired/port-id.js';

export const ETCD_SOURCE_PREFIX = 'etcd:';
export const etcdSourceId = (key: string): string => ETCD_SOURCE_PREFIX + key;

/** The port a key names: its last path segment, when that is a UUID. */
export function portOfKey(key: string): string | undefined {
  const segments = key.split('/').filter(Boolean);
  return portIdOf(segments[segments.length - 1]);
}

export function parseEtcdValue(key: string, value: string): ParseResult {
  const port = portOfKey(key);
  if (port === undefined) return { ok: false, problems: [{ path: '(key)', message: "the key's last segment must be the port UUID" }], ports: [] };
  const result = parseDocumentText(value);
  if (!result.ok) return { ok: false, problems: result.problems, ports: [port] };
  const problems = [];
  const kind = (JSON.parse(value) as { kind?: unknown }).kind; // valid JSON: it parsed
  if ((kind !== 'PortBinding' && kind !== 'NeutronPort') || result.bindings.length !== 1) {
    problems.push({ path: 'kind', message: `one PortBinding or NeutronPort per etcd key (found ${String(kind)} with ${result.bindings.length} binding(s))` });
  } else if (result.bindings[0]!.port !== port) {
    problems.push({ path: 'port', message: `must equal the key's last segment ${port} (is ${result.bindings[0]!.port})` });
  }
  if (problems.length > 0) return { ok: false, problems, ports: [port] };
  return result;
}
