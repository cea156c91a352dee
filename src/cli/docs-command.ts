// `vifd completion bash` and `vifd man`: generated from the option tables.
import { bashCompletion } from './completion.js';
import { manPage } from './man.js';
import { COMPLETION, MAN } from './option-tables.js';
import { parseCommand } from './options.js';
import { version } from './version.js';

export function completionCommand(argv: string[]): number {
  parseCommand(COMPLETION, argv);
  process.stdout.write(bashCompletion());
  return 0;
}

export function manCommand(argv: string[]): number {
  parseCommand(MAN, argv);
  // SOURCE_DATE_EPOCH (reproducible builds) fixes the page's date.
  const epoch = Number(process.env['SOURCE_DATE_EPOCH']);
  const date = Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000).toISOString().slice(0, 10) : undefined;
  process.stdout.write(manPage(version(), date));
  return 0;
}
