// Parses one command's arguments with its option table (node:util parseArgs,
// strict). `-h`/`--help` anywhere before `--` asks for that command's help.
import { parseArgs } from 'node:util';
import { VifdError } from '../errors/vifd-error.js';
import type { CommandSpec, OptionTable } from './option-tables.js';

export class UsageError extends VifdError<'USAGE'> {
  /** The command whose usage to show (undefined: the top-level one). */
  constructor(message: string, readonly command?: string) {
    super('USAGE', message, { fields: { command } });
  }
}

/** `vifd CMD --help`: not an error; main prints the command's help, exit 0. */
export class HelpRequest extends VifdError<'HELP'> {
  constructor(readonly command: string) {
    super('HELP', `help for ${command}`, { fields: { command } });
  }
}

export function parseCommand<const T extends OptionTable>(command: CommandSpec<T>, argv: string[]) {
  const dashdash = argv.indexOf('--');
  const head = dashdash === -1 ? argv : argv.slice(0, dashdash);
  if (head.includes('--help') || head.includes('-h')) throw new HelpRequest(command.name);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: command.options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''), command.name);
  }
  const { values, positionals } = parsed;
  for (const [name, spec] of Object.entries(command.options)) {
    const value = (values as Record<string, unknown>)[name];
    if (spec.required && value === undefined) throw new UsageError(`${command.name} needs --${name}`, command.name);
    if (spec.choices && typeof value === 'string' && !spec.choices.includes(value)) {
      throw new UsageError(`--${name} is one of ${spec.choices.join(', ')} (not ${value})`, command.name);
    }
  }
  const wanted = command.positionals;
  if (!wanted && positionals.length > 0) throw new UsageError(`${command.name} takes no arguments (got ${positionals[0]})`, command.name);
  if (wanted && positionals.length < wanted.min) throw new UsageError(`${command.name} needs ${wanted.name}`, command.name);
  const bad = wanted?.choices && positionals.find((p) => !wanted.choices!.includes(p));
  if (bad) throw new UsageError(`${command.name}: ${wanted!.name} is one of ${wanted!.choices!.join(', ')} (not ${bad})`, command.name);
  return { values, positionals };
}
