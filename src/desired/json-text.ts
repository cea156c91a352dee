// JSON text → value, strictly: duplicate keys are an error (JSON.parse keeps
// the last silently, and a second "port" would move a binding), and an error
// message never quotes the text (a symlink or a stray file must not leak its
// content into logs and status files). Pure.
import { formatPath } from './json-path.js';

export type JsonTextResult = { ok: true; value: unknown } | { ok: false; path: string; message: string };

export function parseJsonText(text: string): JsonTextResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, path: '(document)', message: `not valid JSON: ${syntaxReason(text, error)}` };
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate) return { ok: false, path: formatPath(duplicate.path), message: `duplicate key ${JSON.stringify(duplicate.key)}` };
  return { ok: true, value };
}

/** Where and what kind of syntax error, without any of the text itself. */
function syntaxReason(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/end of JSON input|Unterminated/u.test(message) && !/position/u.test(message)) return 'the text ends too early';
  const at = /position (\d+)/u.exec(message);
  if (at) return `unexpected character at ${lineColumn(text, Number(at[1]))}`;
  // V8 names the token and quotes the text around it ("Unexpected token 'r',
  // "root:x:0:0"... is not valid JSON"): find the place ourselves instead.
  const offset = firstBadOffset(text);
  return offset === undefined ? 'malformed' : `unexpected character at ${lineColumn(text, offset)}`;
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `line ${line} column ${offset - before.lastIndexOf('\n')}`;
}

/** The offset of the first character no JSON text could have there (a cheap
 * approximation used only for the message: the first non-space character
 * when it cannot start a value). */
function firstBadOffset(text: string): number | undefined {
  const match = /\S/u.exec(text);
  if (!match) return undefined;
  return /[[{"\-0-9tfn]/u.test(match[0]) ? undefined : match.index;
}

interface Frame {
  keys: Set<string> | undefined; // undefined: an array
  path: Array<string | number>;
  index: number;
  key: string | undefined;
}

/** Scans already-valid JSON text for an object with a repeated key. */
export function findDuplicateKey(text: string): { path: Array<string | number>; key: string } | undefined {
  const stack: Frame[] = [];
  let expectKey = false;
  let pendingKey: string | undefined;
  const childPath = (): Array<string | number> => {
    const top = stack[stack.length - 1];
    if (!top) return [];
    return top.keys ? [...top.path, top.key ?? ''] : [...top.path, top.index];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      let raw = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') {
          raw += text.slice(j, j + 2);
          j += 2;
        } else raw += text[j++];
      }
      i = j;
      if (expectKey) {
        pendingKey = JSON.parse(`"${raw}"`) as string;
        const top = stack[stack.length - 1]!;
        if (top.keys!.has(pendingKey)) return { path: top.path, key: pendingKey };
        top.keys!.add(pendingKey);
        top.key = pendingKey;
        expectKey = false;
      }
    } else if (c === '{') {
      stack.push({ keys: new Set(), path: childPath(), index: 0, key: undefined });
      expectKey = true;
    } else if (c === '[') {
      stack.push({ keys: undefined, path: childPath(), index: 0, key: undefined });
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.keys) expectKey = true;
      else if (top) top.index++;
    }
  }
  return undefined;
}
