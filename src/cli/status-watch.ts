// `vifd status --watch`: follows GET /v1/watch. On a terminal it redraws the
// status table with a progress line while bindings converge; otherwise it
// prints the table once, then one line per change. Reconnects from the last
// revision seen when the stream breaks (a daemon restart: full snapshot).
import { ApiClient } from '../api/client.js';
import type { WatchEvent } from '../api/watch-hub.js';
import { backoffDelay } from '../lib/backoff.js';
import type { BindingStatus } from '../model/status.js';
import { statusTable } from './status-table.js';

const SETTLED = new Set(['Ready', 'Invalid', 'Conflict']);

export function progressLine(statuses: readonly BindingStatus[], width = 30): string {
  const total = statuses.length;
  const ready = statuses.filter((s) => s.phase === 'Ready').length;
  const settled = statuses.filter((s) => SETTLED.has(s.phase)).length;
  const byPhase = new Map<string, number>();
  for (const s of statuses) byPhase.set(s.phase, (byPhase.get(s.phase) ?? 0) + 1);
  const counts = [...byPhase].map(([p, n]) => `${n} ${p}`).join(', ') || 'none';
  if (total === 0 || settled === total) return `${total} binding(s): ${counts}`;
  const filled = Math.round((settled / total) * width);
  return `converging [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${ready}/${total} Ready (${counts})`;
}

export function eventLine(event: WatchEvent): string | undefined {
  switch (event.type) {
    case 'ADDED':
    case 'MODIFIED':
      return `${event.revision} ${event.port} ${event.status.phase}${event.status.message ? ` ${event.status.message}` : ''}`;
    case 'DELETED':
      return `${event.revision} ${event.port} gone`;
    case 'RESET':
      return `${event.revision} reset: full snapshot follows`;
    case 'BOOKMARK':
      return undefined;
  }
}

export async function watchStatus(client: ApiClient, out: NodeJS.WriteStream, signal: AbortSignal): Promise<number> {
  const statuses = new Map<string, BindingStatus>();
  const tty = out.isTTY === true;
  let revision: number | undefined;
  let synced = false;
  let redraw: NodeJS.Timeout | undefined;
  const draw = () => {
    redraw = undefined;
    const list = [...statuses.values()].sort((a, b) => a.port.localeCompare(b.port));
    out.write(`\x1b[H\x1b[2J${statusTable(list)}\n\n${progressLine(list)}  (revision ${revision ?? '-'})\n`);
  };
  const onEvent = (event: WatchEvent) => {
    revision = event.revision;
    if (event.type === 'RESET') statuses.clear();
    else if (event.type === 'DELETED') statuses.delete(event.port);
    else if (event.type === 'ADDED' || event.type === 'MODIFIED') statuses.set(event.port, event.status);
    if (tty) {
      redraw ??= setTimeout(draw, 50);
      return;
    }
    if (!synced) {
      if (event.type !== 'BOOKMARK') return;
      synced = true;
      const list = [...statuses.values()].sort((a, b) => a.port.localeCompare(b.port));
      out.write(`${statusTable(list)}\n${progressLine(list)}\n`);
      return;
    }
    const line = eventLine(event);
    if (line) out.write(line + '\n');
  };
  let reconnects = 0;
  while (!signal.aborted) {
    let failed: Error | undefined;
    const connection = client.watch(revision, onEvent, (error) => (failed = error));
    const abort = () => connection.close();
    signal.addEventListener('abort', abort, { once: true });
    await connection.done;
    signal.removeEventListener('abort', abort);
    if (signal.aborted) break;
    process.stderr.write(`vifd: watch stream ended${failed ? ` (${failed.message})` : ''}; reconnecting\n`);
    await new Promise((r) => setTimeout(r, backoffDelay(++reconnects, { baseMs: 250, maxMs: 5000 })));
  }
  if (redraw) clearTimeout(redraw);
  client.destroy();
  return 0;
}
