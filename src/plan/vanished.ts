// An action that failed because its device was deleted while the round ran
// is no failure of vifd's: the kernel reports a delete as a "down" and then a
// "gone" a moment apart, a round woken by the first plans `set up`, and by the
// time its batch runs the device is gone ("Cannot find device"). The host
// changed under the round; the next round, planned against the host as it is
// now, recreates the device and decides the status. Reporting Failed for that
// moment flapped a binding Ready → Failed → Ready on one tap delete in three
// (and its status write, with its syncfs, delayed the repair). Pure.
import { isNoSuchDeviceMessage, LinkActionError } from '../errors/host-errors.js';
import type { LinkSnapshot } from '../observed/links.js';

/** The device a "no such device" failure names, if that is what it is. */
export function missingDeviceOf(error: Error): string | undefined {
  const text = error instanceof LinkActionError ? error.reason : error.message;
  const quoted = /Cannot find device "([^"]+)"/u.exec(text);
  if (quoted) return quoted[1];
  if (!isNoSuchDeviceMessage(text) || !(error instanceof LinkActionError)) return undefined;
  return /(?:^|\s)dev (\S+)/u.exec(error.line)?.[1];
}

/** Every failure says a device is missing, and the host after the round has
 * none of those devices: they vanished under the round (none was refused). */
export function vanishedUnderRound(failures: readonly Error[], after: LinkSnapshot): boolean {
  if (failures.length === 0) return false;
  return failures.every((error) => {
    const name = missingDeviceOf(error);
    return name !== undefined && !after.links.has(name);
  });
}
