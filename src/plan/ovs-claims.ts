// Whether another controller has claimed an OVS bridge vifd created (then
// vifd never deletes it, even once no binding uses it). Pure.
//
// A bridge is claimed when
//  - Open_vSwitch external_ids:ovn-bridge names it, or it is br-int and
//    external_ids:ovn-remote is set (ovn-controller's integration bridge);
//  - someone set its controller or fail_mode (vifd creates bridges with
//    neither), or wrote external_ids keys besides vifd's own mark.
import type { OvsBridge } from '../host/ovsdb/index.js';

/** OVN's default integration bridge (ovn-controller(8)). */
export const OVN_DEFAULT_BRIDGE = 'br-int';

/** The bridge ovn-controller uses on this host, if OVN is configured. */
export function ovnIntegrationBridge(system: Readonly<Record<string, string>> | undefined): string | undefined {
  if (!system) return undefined;
  const named = system['ovn-bridge'];
  if (named) return named;
  return system['ovn-remote'] ? OVN_DEFAULT_BRIDGE : undefined;
}

/** Why `bridge` belongs to another controller now, or undefined. `ownKeys`:
 * the external_ids keys vifd itself writes on bridges it creates. */
export function bridgeClaim(bridge: OvsBridge, system: Readonly<Record<string, string>> | undefined, ownKeys: readonly string[]): string | undefined {
  if (ovnIntegrationBridge(system) === bridge.name) {
    const how = system?.['ovn-bridge'] ? 'Open_vSwitch external_ids:ovn-bridge names it' : 'ovn-remote is set and it is the default br-int';
    return `it is OVN's integration bridge (${how})`;
  }
  if ((bridge.controllers ?? 0) > 0) return 'a controller was set on it';
  if (bridge.failMode) return `its fail_mode was set (${bridge.failMode})`;
  const foreign = Object.keys(bridge.externalIds).filter((k) => !ownKeys.includes(k));
  if (foreign.length > 0) return `another client wrote its external_ids (${foreign.sort().join(', ')})`;
  return undefined;
}
