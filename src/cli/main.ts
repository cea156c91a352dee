// vifd's command line (docs/design.md §6).
// Commands are imported when chosen: `vifd run` starts faster without the
// status/etcd-fleet code, `vifd validate` without the daemon.
import { UsageError } from './args.js';

export const USAGE = `usage:
  vifd run      --desired-dir DIR --state-dir DIR [--netns NAME] [--resync-seconds N]
                [--api unix:PATH | --api tcp:127.0.0.1:PORT --api-token-file FILE]   (default unix:<state-dir>/vifd.sock)
                [--etcd URL[,URL...] [--etcd-prefix P] [--hostname NAME] [--etcd-lease-seconds N] [--etcd-initial-timeout-seconds N]]
  vifd validate FILE...
  vifd plan     --desired-dir DIR [--netns NAME] [--state-dir DIR]
  vifd status   [--state-dir DIR | --api unix:PATH|tcp:HOST:PORT [--api-token-file F]] [--json] [--watch]
  vifd status   --etcd URL[,URL...] [--hostname NAME] [--json]   (no host: the fleet)
  vifd wait     PORT... --for Ready|Removed [--timeout S] [--state-dir DIR | --api ADDR [--api-token-file F]]
  vifd schema   (prints the PortBinding JSON Schema)`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await (await import('./run-command.js')).runCommand(rest);
      case 'validate':
        return await (await import('./validate-command.js')).validateCommand(rest);
      case 'plan':
        return await (await import('./plan-command.js')).planCommand(rest);
      case 'status':
        return await (await import('./status-command.js')).statusCommand(rest);
      case 'wait':
        return await (await import('./wait-command.js')).waitCommand(rest);
      case 'schema':
        return (await import('./schema-command.js')).schemaCommand();
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE + '\n');
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`vifd: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    const code = (error as { code?: unknown }).code;
    process.stderr.write(`vifd: ${error instanceof Error ? error.message : String(error)}${typeof code === 'string' ? ` [${code}]` : ''}\n`);
    return 1;
  }
}
