// Shared pieces of the command line: errors and defaults (the tables are in
// option-tables.ts, the parser in options.ts).
export { UsageError, HelpRequest, parseCommand } from './options.js';
export { DEFAULT_DESIRED_DIR, DEFAULT_STATE_DIR } from './option-tables.js';
