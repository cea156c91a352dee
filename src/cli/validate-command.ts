// vifd validate FILE...: exit 0 when every file is a valid document, 1 if not.
import { readDocumentFile } from '../sources/read-document.js';
import { parseCommand } from './options.js';
import { VALIDATE } from './option-tables.js';

export async function validateCommand(argv: string[]): Promise<number> {
  const { positionals: files } = parseCommand(VALIDATE, argv);
  let invalid = 0;
  for (const file of files) {
    const outcome = await readDocumentFile(file);
    if (!outcome.exists) {
      process.stdout.write(`${file}: error: no such file\n`);
      invalid++;
    } else if (outcome.result.ok) {
      const n = outcome.result.bindings.length;
      process.stdout.write(`${file}: ok (${n} binding${n === 1 ? '' : 's'})\n`);
    } else {
      invalid++;
      for (const p of outcome.result.problems) process.stdout.write(`${file}: ${p.path}: ${p.message}\n`);
    }
  }
  return invalid === 0 ? 0 : 1;
}
