// vifd's command line (docs/design.md §6). Each command's options are a
// table in option-tables.ts; parsing, --help, usage errors, the man page and
// the bash completion come from those tables.
// Commands are imported when chosen: `vifd run` starts faster without the
// status/etcd-fleet code, `vifd validate` without the daemon.
import { errorCode } from '../errors/vifd-error.js';
import { HelpRequest, UsageError } from './options.js';
import { commandNamed } from './option-tables.js';
import { commandHelp, synopsis, usage } from './help.js';
import { version } from './version.js';

export { usage };

async function dispatch(command: string, rest: string[]): Promise<number> {
  switch (command) {
    case 'run':
      return (await import('./run-command.js')).runCommand(rest);
    case 'validate':
      return (await import('./validate-command.js')).validateCommand(rest);
    case 'plan':
      return (await import('./plan-command.js')).planCommand(rest);
    case 'status':
      return (await import('./status-command.js')).statusCommand(rest);
    case 'wait':
      return (await import('./wait-command.js')).waitCommand(rest);
    case 'schema':
      return (await import('./schema-command.js')).schemaCommand(rest);
    case 'completion':
      return (await import('./docs-command.js')).completionCommand(rest);
    case 'man':
      return (await import('./docs-command.js')).manCommand(rest);
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        process.stderr.write(usage() + '\n');
        return 2;
      case '-h':
      case '--help':
        process.stdout.write(usage() + '\n');
        return 0;
      case 'help': {
        const about = rest[0] === undefined ? undefined : commandNamed(rest[0]);
        if (rest[0] !== undefined && !about) throw new UsageError(`unknown command ${rest[0]}`);
        process.stdout.write((about ? commandHelp(about) : usage()) + '\n');
        return 0;
      }
      case '-V':
      case '--version':
        process.stdout.write(`vifd ${version()}\n`);
        return 0;
      default:
        return await dispatch(command, rest);
    }
  } catch (error) {
    if (error instanceof HelpRequest) {
      process.stdout.write(commandHelp(commandNamed(error.command)!) + '\n');
      return 0;
    }
    if (error instanceof UsageError) {
      // Errors from a command's own checks (e.g. --resync-seconds) name no command: the one run is meant.
      const about = commandNamed(error.command ?? command ?? '');
      const hint = about ? `${synopsis(about, 'usage: vifd')}\n(vifd ${about.name} --help describes each option)` : usage();
      process.stderr.write(`vifd: ${error.message}\n${hint}\n`);
      return 2;
    }
    const code = errorCode(error);
    const { stderrPriorityPrefix } = await import('../log.js');
    process.stderr.write(`${stderrPriorityPrefix(3)}vifd: ${error instanceof Error ? error.message : String(error)}${code === undefined ? '' : ` [${code}]`}\n`);
    return 1;
  }
}
