// Planned host changes: plain data produced by the planner and executed by the
// actuators. Every action names the work-queue key it is done for, so a
// failure is reported on the right binding.
import type { WorkKey } from './work-key.js';

export interface LinkSettings {
  group?: number;
  alias?: string;
  mac?: string;
  mtu?: number;
  /** A bridge to enslave to, or null to release from any. */
  master?: string | null;
  up?: boolean;
  /** macvtap/macvlan mode, as ip spells it. */
  macvtapMode?: string;
}

export type LinkAction =
  | { op: 'create-bridge'; key: WorkKey; name: string; group: number; alias: string; perPort: boolean }
  | { op: 'create-tap'; key: WorkKey; name: string; multiQueue?: boolean; user?: number; group?: number }
  | { op: 'create-veth'; key: WorkKey; name: string; peer: string; group: number; alias: string; mtu?: number }
  | { op: 'create-macvtap'; key: WorkKey; name: string; lower: string; mode: string; mac: string; group: number; alias: string; mtu?: number }
  | { op: 'set-link'; key: WorkKey; name: string; settings: LinkSettings; why: string }
  | { op: 'delete-link'; key: WorkKey; name: string; why: string }
  /** Takes a device out of the doomed group before the bulk delete (a
   * killed run left it there; it is not to be deleted this round). */
  | { op: 'undoom-link'; key: WorkKey; name: string; group: number };

export type Action = LinkAction;
