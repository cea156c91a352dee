// The host UUID an 802.1Qbh association carries (IFLA_PORT_HOST_UUID):
// libvirt sends the SMBIOS system UUID; vifd reads it from
// /sys/class/dmi/id/product_uuid when readable (root only), else derives one
// from /etc/machine-id (32 hex digits, formatted as a UUID).
import { readFile } from 'node:fs/promises';
import { VifdError } from '../errors/vifd-error.js';
import { UUID_CANONICAL } from '../lib/uuid.js';

export class HostUuidError extends VifdError<'HOST_UUID_UNAVAILABLE'> {
  constructor(readonly problems: string[]) {
    super('HOST_UUID_UNAVAILABLE', `no host UUID for 802.1Qbh: ${problems.join('; ')}`, { fields: { problems } });
  }
}

export function machineIdAsUuid(text: string): string | undefined {
  const hex = text.trim().toLowerCase();
  if (!/^[0-9a-f]{32}$/u.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export type ReadText = (path: string) => Promise<string>;
const readText: ReadText = (path) => readFile(path, 'utf8');

export async function readHostUuid(read: ReadText = readText): Promise<string> {
  const problems: string[] = [];
  try {
    const dmi = (await read('/sys/class/dmi/id/product_uuid')).trim().toLowerCase();
    if (UUID_CANONICAL.test(dmi) && dmi !== '00000000-0000-0000-0000-000000000000') return dmi;
    problems.push(`product_uuid is not a usable UUID (${JSON.stringify(dmi)})`);
  } catch (error) {
    problems.push(`product_uuid: ${(error as Error).message}`);
  }
  try {
    const id = machineIdAsUuid(await read('/etc/machine-id'));
    if (id) return id;
    problems.push('/etc/machine-id is not 32 hex digits');
  } catch (error) {
    problems.push(`machine-id: ${(error as Error).message}`);
  }
  throw new HostUuidError(problems);
}
