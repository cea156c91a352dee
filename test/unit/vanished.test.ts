import { describe, expect, it } from 'vitest';
import { LinkActionError } from '../../src/errors/host-errors.js';
import { missingDeviceOf, vanishedUnderRound } from '../../src/plan/vanished.js';
import type { LinkSnapshot } from '../../src/observed/links.js';

const linkError = (line: string, message: string) => new LinkActionError({ line, lineNumber: 1, message });
const snapshotOf = (...names: string[]) => ({ links: new Map(names.map((name) => [name, { name }])) }) as unknown as LinkSnapshot;

describe('missingDeviceOf', () => {
  it.each([
    ['ip names it', linkError('link set dev tap1 up', 'Cannot find device "tap1"'), 'tap1'],
    ['the kernel says ENODEV: the line names it', linkError('link set dev tap2 mtu 1450', 'RTNETLINK answers: No such device'), 'tap2'],
    ['another error', linkError('link set dev tap3 mtu 99999', 'RTNETLINK answers: Invalid argument'), undefined],
    ['ENODEV on a line that names no device', linkError('link del group 4243', 'RTNETLINK answers: No such device'), undefined],
    ['a plain error', new Error('Cannot find device "tap4"'), 'tap4'],
  ])('%s', (_what, error, name) => {
    expect(missingDeviceOf(error)).toBe(name);
  });
});

describe('vanishedUnderRound', () => {
  it.each([
    ['the device is gone after the round', [linkError('link set dev tap1 up', 'Cannot find device "tap1"')], snapshotOf('br0'), true],
    ['it is there again (so it was not only deleted)', [linkError('link set dev tap1 up', 'Cannot find device "tap1"')], snapshotOf('tap1'), false],
    ['one of two failures is a refusal', [linkError('link set dev tap1 up', 'Cannot find device "tap1"'), linkError('link set dev tap1 mtu 1', 'RTNETLINK answers: Invalid argument')], snapshotOf(), false],
    ['no failures', [], snapshotOf(), false],
  ])('%s: %s', (_what, failures, after, expected) => {
    expect(vanishedUnderRound(failures, after)).toBe(expected);
  });
});
