// Text → validated PortBindings, or precise problems (path + reason). Pure.
import type { z } from 'zod';
import { DocumentSchema, type PortBinding } from './schema.js';

export const MAX_DOCUMENT_BYTES = 1024 * 1024;

export interface Problem {
  /** JSON path like `items[2].vif.bridge`, or `(document)` for the whole text. */
  path: string;
  message: string;
}

export type ParseResult =
  | { ok: true; bindings: PortBinding[] }
  | { ok: false; problems: Problem[]; /** ports named in the text, when they can be read */ ports: string[] };

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(document)' : out;
}

export function problemsFromZod(error: z.ZodError, prefix: readonly PropertyKey[] = []): Problem[] {
  return error.issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]), message: issue.message }));
}

/** Ports the text names, even when it is otherwise invalid: lets an invalid
 * edit be reported on the binding it was meant to change. */
function portsNamedIn(value: unknown): string[] {
  const ports: string[] = [];
  const take = (v: unknown) => {
    if (v && typeof v === 'object' && typeof (v as { port?: unknown }).port === 'string') {
      ports.push(((v as { port: string }).port).toLowerCase());
    }
  };
  take(value);
  const items = value && typeof value === 'object' ? (value as { items?: unknown }).items : undefined;
  if (Array.isArray(items)) items.forEach(take);
  return ports;
}

/** Validates an already-decoded JSON value (a file's content or an API body). */
export function parseDocumentValue(value: unknown): ParseResult {
  const result = DocumentSchema.safeParse(value);
  if (!result.success) return { ok: false, problems: problemsFromZod(result.error), ports: portsNamedIn(value) };
  const bindings = result.data.kind === 'PortBinding' ? [result.data] : result.data.items;
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  bindings.forEach((b, i) => {
    const first = seen.get(b.port);
    if (first !== undefined) problems.push({ path: `items[${i}].port`, message: `port ${b.port} is already bound by items[${first}]` });
    else seen.set(b.port, i);
  });
  if (problems.length > 0) return { ok: false, problems, ports: [...seen.keys()] };
  return { ok: true, bindings };
}

/** Line and column (1-based) of a character offset, for JSON syntax errors. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line} column ${column}`;
}

export function parseDocumentText(text: string): ParseResult {
  if (text.length > MAX_DOCUMENT_BYTES) {
    return { ok: false, problems: [{ path: '(document)', message: `larger than ${MAX_DOCUMENT_BYTES} bytes` }], ports: [] };
  }
  if (text.trim() === '') return { ok: false, problems: [{ path: '(document)', message: 'empty document' }], ports: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = /position (\d+)/u.exec(message);
    const where = at ? ` (${lineColumn(text, Number(at[1]))})` : '';
    return { ok: false, problems: [{ path: '(document)', message: `not valid JSON: ${message}${where}` }], ports: [] };
  }
  return parseDocumentValue(value);
}
