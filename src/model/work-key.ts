// Work keys: what the work queue holds, each naming one thing a round
// reconciles. Keys stay plain strings (they are Map keys, logged and
// counted), but only this module builds them or reads their form: everyone
// else asks `parseWorkKey` what a key names. Pure.

/** A port UUID, `link:<name>` for a link vifd owns that belongs to no port
 * (a shared bridge, a half-made device), or `ovs-bridge:<name>` for an OVS
 * bridge vifd created. */
export type WorkKey = string;

export type ParsedWorkKey =
  | { kind: 'port'; port: string }
  | { kind: 'link'; name: string }
  | { kind: 'ovs-bridge'; name: string };

const LINK = 'link:';
const OVS_BRIDGE = 'ovs-bridge:';

export const portKey = (port: string): WorkKey => port;
export const linkKey = (name: string): WorkKey => LINK + name;
export const ovsBridgeKey = (name: string): WorkKey => OVS_BRIDGE + name;

export function parseWorkKey(key: WorkKey): ParsedWorkKey {
  if (key.startsWith(LINK)) return { kind: 'link', name: key.slice(LINK.length) };
  if (key.startsWith(OVS_BRIDGE)) return { kind: 'ovs-bridge', name: key.slice(OVS_BRIDGE.length) };
  return { kind: 'port', port: key };
}

/** The link a `link:` key names. */
export function linkNameOfKey(key: WorkKey): string | undefined {
  const parsed = parseWorkKey(key);
  return parsed.kind === 'link' ? parsed.name : undefined;
}

/** The OVS bridge an `ovs-bridge:` key names. */
export function ovsBridgeOfKey(key: WorkKey): string | undefined {
  const parsed = parseWorkKey(key);
  return parsed.kind === 'ovs-bridge' ? parsed.name : undefined;
}

/** A key that names a port (a binding), not a device vifd keeps for itself. */
export const isPortKey = (key: WorkKey): boolean => parseWorkKey(key).kind === 'port';
