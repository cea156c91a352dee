// The <interface> element a hypervisor uses for a plugged port. vifd creates
// the device itself, so libvirt gets type='ethernet' with managed='no': it
// opens the existing tap/macvtap and changes nothing around it. Pure.
import type { BindingSpec } from '../desired/spec.js';

function escapeAttribute(value: string): string {
  return value.replace(/&/gu, '&amp;').replace(/'/gu, '&apos;').replace(/</gu, '&lt;').replace(/"/gu, '&quot;');
}

export function libvirtInterfaceXml(spec: BindingSpec): string {
  const { mac, mtu } = spec.binding;
  const lines = [
    `<interface type='ethernet'>`,
    `  <mac address='${escapeAttribute(mac)}'/>`,
    `  <target dev='${escapeAttribute(spec.targetDev)}' managed='no'/>`,
    `  <model type='virtio'/>`,
  ];
  const vif = spec.binding.vif;
  const queues = vif.type === 'bridge' || vif.type === 'ovs' ? vif.queues : undefined;
  // A multi-queue tap needs the hypervisor to open it with as many queues.
  if (queues !== undefined && queues > 1) lines.push(`  <driver name='vhost' queues='${queues}'/>`);
  if (mtu !== undefined) lines.push(`  <mtu size='${mtu}'/>`);
  lines.push(`</interface>`);
  return lines.join('\n');
}
