import { portBindingJsonSchema } from '../desired/json-schema.js';
import { SCHEMA } from './option-tables.js';
import { parseCommand } from './options.js';

export function schemaCommand(argv: string[]): number {
  parseCommand(SCHEMA, argv);
  process.stdout.write(JSON.stringify(portBindingJsonSchema(), null, 2) + '\n');
  return 0;
}
