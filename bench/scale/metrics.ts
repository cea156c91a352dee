// Reads vifd's GET /metrics over its API unix socket and picks the series
// the benchmark needs. vifd_host_commands_total is summed over its labels
// (a `command` label splits it per command, when the daemon has one).
import { request } from 'node:http';

export interface Scrape {
  /** Sum of every vifd_host_commands_total series. */
  commands: number;
  /** vifd_host_commands_total per label set (`total` without labels). */
  byCommand: Map<string, number>;
  keys: number;
  rounds: number;
  queueDepth: number;
  /** vifd_resyncs_total (NaN on builds without it). */
  resyncs: number;
}

function get(socketPath: string, path: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: timeoutMs, headers: { host: 'vifd' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export function parseMetrics(text: string): Scrape {
  const byCommand = new Map<string, number>();
  const single = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/u.exec(line);
    if (!m) continue;
    const [, name, labels, value] = m;
    if (name === 'vifd_host_commands_total') {
      const key = labels ? labels.slice(1, -1) : 'total';
      byCommand.set(key, (byCommand.get(key) ?? 0) + Number(value));
    } else if (!labels) {
      single.set(name!, Number(value));
    }
  }
  // Labelled series if there are any (an unlabelled one beside them would be their total), else the one series; NaN without the metric.
  const labelled = [...byCommand].filter(([k]) => k !== 'total');
  const commands = labelled.length > 0 ? labelled.reduce((sum, [, v]) => sum + v, 0) : (byCommand.get('total') ?? NaN);
  if (labelled.length > 0) byCommand.delete('total');
  return {
    commands,
    byCommand,
    keys: single.get('vifd_reconcile_keys_total') ?? NaN,
    rounds: single.get('vifd_reconcile_rounds_total') ?? NaN,
    queueDepth: single.get('vifd_queue_depth') ?? NaN,
    resyncs: single.get('vifd_resyncs_total') ?? NaN,
  };
}

export async function scrape(socketPath: string): Promise<Scrape> {
  return parseMetrics(await get(socketPath, '/metrics'));
}

/** Per-command difference b - a (only the commands that moved). */
export function commandDelta(a: Scrape, b: Scrape): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of b.byCommand) {
    const d = v - (a.byCommand.get(k) ?? 0);
    if (d !== 0) out.set(k, d);
  }
  return out;
}
