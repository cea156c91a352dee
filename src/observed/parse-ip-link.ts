// Parses `ip -j -d link show` (iproute2 ≥ 5) into ObservedLinks. Pure.
import { VifdError } from '../errors/vifd-error.js';
import type { LinkKind, LinkSnapshot, ObservedLink } from './links.js';

interface RawLink {
  ifindex?: unknown;
  ifname?: unknown;
  flags?: unknown;
  mtu?: unknown;
  master?: unknown;
  address?: unknown;
  group?: unknown;
  ifalias?: unknown;
  link?: unknown;
  linkinfo?: { info_kind?: unknown; info_data?: Record<string, unknown> };
}

export class IpOutputParseError extends VifdError<'IP_OUTPUT_UNPARSABLE'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IP_OUTPUT_UNPARSABLE', message, options);
  }
}

function kindOf(raw: RawLink): LinkKind {
  const info = raw.linkinfo?.info_kind;
  switch (info) {
    case 'bridge':
    case 'veth':
    case 'macvtap':
    case 'macvlan':
      return info;
    case 'tun':
      return raw.linkinfo?.info_data?.['type'] === 'tap' ? 'tap' : 'tun';
    default:
      return 'other';
  }
}

/** "default" is group 0; other names come from /etc/iproute2/group, which vifd does not use. */
export function parseGroup(value: unknown): number {
  if (value === undefined || value === 'default') return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+$/u.test(value)) return Number(value);
  return Number.NaN;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function parseLink(raw: RawLink): ObservedLink {
  if (typeof raw.ifname !== 'string' || typeof raw.ifindex !== 'number') {
    throw new IpOutputParseError(`link without ifname/ifindex: ${JSON.stringify(raw).slice(0, 200)}`);
  }
  const kind = kindOf(raw);
  const data = raw.linkinfo?.info_data;
  const flags = Array.isArray(raw.flags) ? (raw.flags as unknown[]) : [];
  return {
    ifindex: raw.ifindex,
    name: raw.ifname,
    kind,
    rawKind: str(raw.linkinfo?.info_kind),
    mtu: typeof raw.mtu === 'number' ? raw.mtu : 0,
    mac: str(raw.address),
    up: flags.includes('UP'),
    master: str(raw.master),
    group: parseGroup(raw.group),
    alias: str(raw.ifalias),
    link: str(raw.link),
    macvtapMode: kind === 'macvtap' || kind === 'macvlan' ? str(data?.['mode']) : undefined,
    persistent: kind === 'tap' || kind === 'tun' ? data?.['persist'] === true : undefined,
    carrier: flags.includes('LOWER_UP'),
    ...(kind === 'tap' || kind === 'tun'
      ? { multiQueue: data?.['multi_queue'] === true, ...(typeof data?.['numqueues'] === 'number' ? { tunQueues: data['numqueues'] } : {}) }
      : {}),
  };
}

export function parseIpLinkJson(text: string): LinkSnapshot {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (cause) {
    throw new IpOutputParseError('ip -j link show printed invalid JSON', { cause });
  }
  if (!Array.isArray(list)) throw new IpOutputParseError('ip -j link show did not print a JSON array');
  const links = new Map<string, ObservedLink>();
  for (const raw of list as RawLink[]) {
    const link = parseLink(raw);
    links.set(link.name, link);
  }
  return { links };
}
