// Text → validated PortBindings, or precise problems (path + reason). Pure.
//
// Each item of a PortBindingList is a binding of its own: one bad item makes
// only that item Invalid (its last valid version stays applied); the others
// are applied. A document that cannot be read as a whole (not JSON, wrong
// kind or apiVersion, no items array) keeps everything it applied before.
import type { Problem } from './problem.js';
import type { z } from 'zod';
import { formatPath } from './json-path.js';
import { parseJsonText } from './json-text.js';
import { portIdOf } from './port-id.js';
import { translateNeutronPort } from './neutron-port.js';
import { API_VERSION, DocumentSchema, NeutronPortDocumentSchema, PortBindingSchema, type DocumentKind, type PortBinding } from './schema.js';

export { formatPath } from './json-path.js';

export const MAX_DOCUMENT_BYTES = 1024 * 1024;


/** One item of a list whose envelope is valid. */
export type ItemOutcome =
  | { ok: true; binding: PortBinding }
  | { ok: false; /** the item's port when it is a readable UUID */ port: string | undefined; problems: Problem[] };

export type ParseResult =
  | { ok: true; bindings: PortBinding[]; /** default PortBinding(List) */ documentKind?: DocumentKind }
  | {
      ok: false;
      problems: Problem[];
      /** Ports the invalid text names (only ever canonical UUIDs), to report Invalid on them. */
      ports: string[];
      /** Set when the document was readable item by item: each item's outcome. */
      items?: ItemOutcome[];
    };

export function problemsFromZod(error: z.ZodError, prefix: readonly PropertyKey[] = []): Problem[] {
  return error.issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]), message: issue.message }));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Ports the value names, when they are UUIDs: an invalid edit is reported
 * on the binding it was meant to change. Anything else names no port. */
function portsNamedIn(value: unknown): string[] {
  const ports: string[] = [];
  const take = (v: unknown) => {
    const port = isObject(v) ? portIdOf(v.port) : undefined;
    if (port) ports.push(port);
  };
  take(value);
  if (isObject(value) && Array.isArray(value.items)) value.items.forEach(take);
  return [...new Set(ports)];
}

/** Validates an already-decoded JSON value (a file's content or an API body). */
export function parseDocumentValue(value: unknown): ParseResult {
  if (isObject(value) && value.kind === 'PortBindingList' && value.apiVersion === API_VERSION && Array.isArray(value.items)) {
    return parseList(value);
  }
  if (isObject(value) && value.kind === 'NeutronPort') return parseNeutronPort(value);
  const result = DocumentSchema.safeParse(value);
  if (!result.success) return { ok: false, problems: problemsFromZod(result.error), ports: portsNamedIn(value) };
  if (result.data.kind === 'NeutronPort') return parseNeutronPort(value as Record<string, unknown>);
  return result.data.kind === 'PortBinding' ? { ok: true, bindings: [result.data], documentKind: 'PortBinding' } : { ok: true, bindings: result.data.items, documentKind: 'PortBindingList' };
}

/** Where a problem of the translated binding comes from in Neutron's port. */
const NEUTRON_PATHS: Record<string, string> = {
  mac: 'neutronPort.mac_address',
  instance: 'neutronPort.device_id',
  port: 'neutronPort.id',
  'vif.bridge': 'neutronPort.binding:vif_details.bridge_name',
  'vif.device': 'neutronPort.binding:vif_details.physical_interface',
  'vif.profile.profileId': 'neutronPort.binding:vif_details.profileid',
  'vif.profile.managerId': 'neutronPort.binding:vif_details.qbg_params.managerid',
  'vif.profile.typeId': 'neutronPort.binding:vif_details.qbg_params.typeid',
  'vif.profile.typeIdVersion': 'neutronPort.binding:vif_details.qbg_params.typeidversion',
  'vif.profile.instanceId': 'neutronPort.binding:vif_details.qbg_params.instanceid',
};

function parseNeutronPort(value: Record<string, unknown>): ParseResult {
  const envelope = NeutronPortDocumentSchema.safeParse(value);
  const named = portIdOf(isObject(value.neutronPort) ? value.neutronPort.id : undefined);
  if (!envelope.success) return { ok: false, problems: problemsFromZod(envelope.error), ports: named ? [named] : [] };
  const translated = translateNeutronPort(envelope.data.neutronPort, envelope.data.mtu);
  if (!translated.ok) return { ok: false, problems: translated.problems, ports: translated.port ? [translated.port] : [] };
  const parsed = PortBindingSchema.safeParse(translated.binding);
  if (!parsed.success) {
    const problems = problemsFromZod(parsed.error).map((p) => ({ path: NEUTRON_PATHS[p.path] ?? (p.path === 'mtu' ? 'mtu' : `neutronPort (as ${p.path})`), message: p.message }));
    return { ok: false, problems, ports: named ? [named] : [] };
  }
  return { ok: true, bindings: [parsed.data], documentKind: 'NeutronPort' };
}

function parseList(value: Record<string, unknown>): ParseResult {
  const envelope: Problem[] = Object.keys(value)
    .filter((k) => k !== 'apiVersion' && k !== 'kind' && k !== 'items')
    .map((k) => ({ path: '(document)', message: `Unrecognized key: ${JSON.stringify(k)}` }));
  const seen = new Map<string, number>();
  const items = (value.items as unknown[]).map((item, i): ItemOutcome => {
    const parsed = PortBindingSchema.safeParse(item);
    if (!parsed.success) return { ok: false, port: portsNamedIn(item)[0], problems: problemsFromZod(parsed.error, ['items', i]) };
    const first = seen.get(parsed.data.port);
    // The first item keeps the port; the repeat names no port of its own.
    if (first !== undefined) return { ok: false, port: undefined, problems: [{ path: `items[${i}].port`, message: `port ${parsed.data.port} is already bound by items[${first}]` }] };
    seen.set(parsed.data.port, i);
    return { ok: true, binding: parsed.data };
  });
  const problems = [...envelope, ...items.flatMap((o) => (o.ok ? [] : o.problems))];
  if (problems.length === 0) return { ok: true, bindings: items.map((o) => (o as { binding: PortBinding }).binding), documentKind: 'PortBindingList' };
  if (envelope.length > 0) return { ok: false, problems, ports: portsNamedIn(value) };
  return { ok: false, problems, ports: portsNamedIn(value), items };
}

export function parseDocumentText(text: string): ParseResult {
  if (text.length > MAX_DOCUMENT_BYTES) {
    return { ok: false, problems: [{ path: '(document)', message: `larger than ${MAX_DOCUMENT_BYTES} bytes` }], ports: [] };
  }
  if (text.trim() === '') return { ok: false, problems: [{ path: '(document)', message: 'empty document' }], ports: [] };
  const json = parseJsonText(text);
  if (!json.ok) return { ok: false, problems: [{ path: json.path, message: json.message }], ports: [] };
  return parseDocumentValue(json.value);
}
