// Shared option parsing for the subcommands (node:util parseArgs, strict).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  readonly code = 'USAGE';
}

export const DEFAULT_DESIRED_DIR = '/etc/vifd/bindings.d';
export const DEFAULT_STATE_DIR = '/var/lib/vifd';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
