// Linux interface names and the default device names vifd derives from a port
// UUID. Pure: no node:* imports.

/** IFNAMSIZ is 16 including the NUL byte. */
export const MAX_IFNAME_BYTES = 15;

/** OpenStack cuts prefix + port id to 14 characters (nova.network.model.NIC_NAME_LEN). */
export const DEFAULT_NAME_LENGTH = 14;

/** Returns why `name` is not a valid Linux interface name, or undefined if it is. */
export function ifnameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > MAX_IFNAME_BYTES) return `must be at most ${MAX_IFNAME_BYTES} bytes (is ${bytes})`;
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (name.startsWith('-')) return 'must not start with "-"';
  if (/[\s/:]/u.test(name)) return 'must not contain "/", ":" or whitespace';
  // Keep names printable ASCII: they travel through `ip -batch` lines and OVSDB.
  if (!/^[\x21-\x7e]+$/u.test(name)) return 'must be printable ASCII';
  if (/["'\\#]/u.test(name)) return 'must not contain quotes, "\\" or "#"';
  return undefined;
}

/** prefix + port, cut to 14 characters, as Nova/Neutron name devices. */
export function defaultDeviceName(prefix: string, port: string): string {
  return (prefix + port).slice(0, DEFAULT_NAME_LENGTH);
}

/** libvirt gives a tap the VM's MAC with the first byte set to 0xfe, so the
 * bridge never adopts the guest's own address. */
export function tapMacFor(vmMac: string): string {
  return 'fe' + vmMac.toLowerCase().slice(2);
}
