// GET /v1/watch?since=REV: status changes as a stream, NDJSON (one event per
// line) or, for `Accept: text/event-stream`, server-sent events (the event id
// is the revision, so Last-Event-ID resumes too). See docs/api.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidRequestError } from './errors.js';
import type { WatchEvent, WatchHub } from './watch-hub.js';

/** A client that stops reading is cut off past this much unsent output; it
 * resumes with ?since= from the last revision it saw. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export function parseSince(url: URL, req: IncomingMessage): number | undefined {
  const text = url.searchParams.get('since') ?? (req.headers['last-event-id'] as string | undefined);
  if (text === undefined || text === null || text === '') return undefined;
  if (!/^\d{1,16}$/u.test(text)) throw new InvalidRequestError([{ path: '(url).since', message: `must be a revision (a non-negative integer), not ${JSON.stringify(text)}` }]);
  return Number(text);
}

export function serveWatch(hub: WatchHub, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const since = parseSince(url, req);
  const sse = (req.headers.accept ?? '').includes('text/event-stream');
  const encode = sse
    ? (e: WatchEvent) => `id: ${e.revision}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`
    : (e: WatchEvent) => JSON.stringify(e) + '\n';
  res.writeHead(200, {
    'content-type': sse ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
    'x-vifd-revision': String(hub.revision),
  });
  res.flushHeaders();
  let closed = false;
  const send = (events: readonly WatchEvent[]) => {
    if (closed) return;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      close();
      res.destroy();
      return;
    }
    res.write(events.map(encode).join(''));
  };
  const start = hub.subscribe({ send }, since);
  const close = () => {
    if (closed) return;
    closed = true;
    start.unsubscribe();
  };
  send(start.initial);
  req.socket.setTimeout(0);
  res.on('close', close);
  req.on('close', close);
}
