// The <interface> element a hypervisor uses for a plugged port. When vifd
// creates the device itself, libvirt gets type='ethernet' with managed='no':
// it opens the existing tap/macvtap and changes nothing around it. When the
// hypervisor creates the tap (tapOwner "hypervisor"), libvirt gets what makes
// it create the tap where vifd expects it. Pure.
import type { BindingSpec } from '../desired/spec.js';

function escapeAttribute(value: string): string {
  return value.replace(/&/gu, '&amp;').replace(/'/gu, '&apos;').replace(/</gu, '&lt;').replace(/"/gu, '&quot;');
}

/** Where libvirt plugs a tap it creates itself (tapOwner "hypervisor"):
 * the Linux bridge (the binding's, or the hybrid form's qbr), or nowhere
 * (plain OVS: vifd made the OVS port for the tap's name beforehand). */
function hypervisorBridge(spec: BindingSpec): string | undefined {
  const perPort = spec.links.find((l) => l.kind === 'bridge');
  return spec.sharedBridge ?? perPort?.name;
}

export function libvirtInterfaceXml(spec: BindingSpec): string {
  const { mac, mtu } = spec.binding;
  const target = escapeAttribute(spec.targetDev);
  const bridge = spec.hypervisorTap !== undefined ? hypervisorBridge(spec) : undefined;
  const head =
    spec.hypervisorTap === undefined
      ? [`<interface type='ethernet'>`, `  <mac address='${escapeAttribute(mac)}'/>`, `  <target dev='${target}' managed='no'/>`]
      : bridge !== undefined
        ? [`<interface type='bridge'>`, `  <mac address='${escapeAttribute(mac)}'/>`, `  <source bridge='${escapeAttribute(bridge)}'/>`, `  <target dev='${target}'/>`]
        : [`<interface type='ethernet'>`, `  <mac address='${escapeAttribute(mac)}'/>`, `  <target dev='${target}'/>`];
  const lines = [...head, `  <model type='virtio'/>`];
  const vif = spec.binding.vif;
  const queues = vif.type === 'bridge' || vif.type === 'ovs' ? vif.queues : undefined;
  // A multi-queue tap needs the hypervisor to open it with as many queues.
  if (queues !== undefined && queues > 1) lines.push(`  <driver name='vhost' queues='${queues}'/>`);
  if (mtu !== undefined) lines.push(`  <mtu size='${mtu}'/>`);
  lines.push(`</interface>`);
  return lines.join('\n');
}
