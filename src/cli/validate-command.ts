// vifd validate FILE...: exit 0 when every file is a valid document, 1 if not.
import { readDocumentFile } from '../sources/read-document.js';
import { UsageError } from './args.js';

export async function validateCommand(files: string[]): Promise<number> {
  if (files.length === 0 || files.some((f) => f.startsWith('-'))) throw new UsageError('validate takes one or more files');
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
