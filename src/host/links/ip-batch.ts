// Link actions → lines of one `ip -batch`, each line remembering which work
// keys it serves so a failure lands on the right binding. Pure.
import type { LinkAction, LinkSettings } from '../../model/actions.js';
import type { WorkKey } from '../../model/work-key.js';
import type { OwnershipConfig } from '../../model/ownership.js';

export interface IpBatch {
  lines: string[];
  /** lines[i] is done for keysOfLine[i]. */
  keysOfLine: WorkKey[][];
  /** Devices lines[i] creates (creation lines only). */
  createsOfLine: string[][];
  /** Devices lines[i] changes or refers to (its device, its master). */
  touchesOfLine: string[][];
}

function settingsArgs(s: LinkSettings): string[] {
  const args: string[] = [];
  if (s.group !== undefined) args.push('group', String(s.group));
  if (s.alias !== undefined) args.push('alias', s.alias);
  if (s.mac !== undefined) args.push('address', s.mac);
  if (s.mtu !== undefined) args.push('mtu', String(s.mtu));
  if (s.master === null) args.push('nomaster');
  else if (s.master !== undefined) args.push('master', s.master);
  if (s.up !== undefined) args.push(s.up ? 'up' : 'down');
  if (s.macvtapMode !== undefined) args.push('type', 'macvtap', 'mode', s.macvtapMode);
  return args;
}

export function renderIpBatch(actions: readonly LinkAction[], ownership: OwnershipConfig): IpBatch {
  const batch: IpBatch = { lines: [], keysOfLine: [], createsOfLine: [], touchesOfLine: [] };
  let creates: string[] = [];
  let touches: string[] = [];
  const add = (keys: WorkKey[], ...words: string[]) => {
    batch.lines.push(words.join(' '));
    batch.keysOfLine.push(keys);
    batch.createsOfLine.push(creates);
    batch.touchesOfLine.push(touches);
    creates = [];
    touches = [];
  };
  const creating = (...names: string[]) => { creates = names; touches = names; };
  const touching = (...names: (string | null | undefined)[]) => { touches = names.filter((n): n is string => typeof n === 'string'); };
  // Deletes go in bulk: move every doomed link into one group, delete the
  // group in a single request (one RCU grace period instead of one per link).
  // First out of the doomed group: what a killed run left there and this round keeps.
  for (const a of actions) if (a.op === 'undoom-link') { touching(a.name); add([a.key], 'link', 'set', 'dev', a.name, 'group', String(a.group)); }
  const deletes = actions.filter((a) => a.op === 'delete-link');
  for (const d of deletes) { touching(d.name); add([d.key], 'link', 'set', 'dev', d.name, 'group', String(ownership.doomedGroup)); }
  if (deletes.length > 0) add([...new Set(deletes.map((d) => d.key))], 'link', 'del', 'group', String(ownership.doomedGroup));

  for (const a of actions) {
    switch (a.op) {
      case 'delete-link':
      case 'undoom-link':
        break;
      case 'create-bridge': {
        const opts = ['forward_delay', '0', 'stp_state', '0', ...(a.perPort ? ['ageing_time', '0'] : [])];
        creating(a.name);
        add([a.key], 'link', 'add', 'name', a.name, 'group', String(a.group), 'type', 'bridge', ...opts);
        // No IPv6 link-local address on a bridge that only switches frames.
        touching(a.name);
        add([a.key], 'link', 'set', 'dev', a.name, 'alias', a.alias, 'addrgenmode', 'none', 'up');
        break;
      }
      case 'create-tap': {
        const owner = [...(a.user === undefined ? [] : ['user', String(a.user)]), ...(a.group === undefined ? [] : ['group', String(a.group)])];
        creating(a.name);
        add([a.key], 'tuntap', 'add', 'dev', a.name, 'mode', 'tap', ...(a.multiQueue ? ['multi_queue'] : []), ...owner);
        break;
      }
      case 'create-veth': {
        const mtu = a.mtu === undefined ? [] : ['mtu', String(a.mtu)];
        creating(a.name, a.peer);
        add([a.key], 'link', 'add', 'name', a.name, 'group', String(a.group), ...mtu, 'type', 'veth', 'peer', 'name', a.peer, 'group', String(a.group), ...mtu);
        break;
      }
      case 'create-macvtap': {
        const mtu = a.mtu === undefined ? [] : ['mtu', String(a.mtu)];
        creating(a.name);
        add([a.key], 'link', 'add', 'link', a.lower, 'name', a.name, 'address', a.mac, 'group', String(a.group), ...mtu, 'type', 'macvtap', 'mode', a.mode);
        break;
      }
      case 'set-link':
        touching(a.name, a.settings.master);
        add([a.key], 'link', 'set', 'dev', a.name, ...settingsArgs(a.settings));
        break;
    }
  }
  return batch;
}
