// Reads a request body as JSON, refusing more than the limit (413) without
// buffering it, and anything that is not JSON (400).
import type { IncomingMessage } from 'node:http';
import { parseJsonText } from '../desired/json-text.js';
import { MAX_DOCUMENT_BYTES } from '../desired/parse.js';
import { InvalidRequestError, PayloadTooLargeError } from './errors.js';

export const MAX_BODY_BYTES = MAX_DOCUMENT_BYTES;

/** Past this, a too-large body is not even drained: the connection is closed. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/** Reads the body. Over the limit it keeps reading but discards (so the
 * client gets its 413 instead of a reset), then throws. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > DRAIN_LIMIT) throw new PayloadTooLargeError(limit, true);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > DRAIN_LIMIT) throw new PayloadTooLargeError(limit, true);
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) throw new PayloadTooLargeError(limit);
  return Buffer.concat(chunks);
}

/** The body as JSON, whatever the content type says (curl's -d sends a form type). */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const body = await readBody(req, limit);
  const text = body.toString('utf8');
  if (text.trim() === '') throw new InvalidRequestError([{ path: '(document)', message: 'empty body: expected a PortBinding document' }]);
  const json = parseJsonText(text); // duplicate keys refused, no text echoed
  if (!json.ok) throw new InvalidRequestError([{ path: json.path, message: json.message }]);
  return json.value;
}
