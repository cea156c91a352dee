import { portBindingJsonSchema } from '../desired/json-schema.js';

export function schemaCommand(): number {
  process.stdout.write(JSON.stringify(portBindingJsonSchema(), null, 2) + '\n');
  return 0;
}
