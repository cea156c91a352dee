// The API's endpoints: method + path → handler. Handlers return a reply (or
// take over the response, for the watch stream) and throw ApiErrors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BindingStatus } from '../model/status.js';
import { readJsonBody } from './body.js';
import { debugGc } from './debug-gc.js';
import { portFromUrl, type BindingsService } from './bindings-service.js';
import { MethodNotAllowedError, NotFoundError } from './errors.js';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
import type { VifdMetrics } from './vifd-metrics.js';
import type { WatchHub } from './watch-hub.js';
import { serveWatch } from './watch-stream.js';

export interface ApiContext {
  bindings: BindingsService;
  hub: WatchHub;
  metrics: VifdMetrics;
  statuses: () => readonly BindingStatus[];
  summary: () => Record<string, number>;
  /** Desired documents with problems, by source (files that name no port too). */
  documents?: () => ReadonlyArray<{ source: string; problems: ReadonlyArray<{ path: string; message: string }> }>;
  readiness: () => { ready: boolean; reason: string };
}

export type Reply = { status: number; body: unknown; contentType?: string } | 'streaming';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, param: string) => Promise<Reply> | Reply;

interface Route {
  name: string;
  pattern: RegExp;
  methods: Record<string, Handler>;
}

const json = (status: number, body: unknown): Reply => ({ status, body });

function findStatus(ctx: ApiContext, port: string): BindingStatus {
  const status = ctx.statuses().find((s) => s.port === port);
  if (!status) throw new NotFoundError(`no status for port ${port}`);
  return status;
}

export function buildRoutes(ctx: ApiContext): Route[] {
  const gc = debugGc();
  return [
    ...(gc ? [{ name: '/debug/gc', pattern: /^\/debug\/gc$/u, methods: { POST: () => json(200, gc()) } }] : []),
    { name: '/healthz', pattern: /^\/healthz$/u, methods: { GET: () => json(200, { status: 'ok' }) } },
    {
      name: '/readyz',
      pattern: /^\/readyz$/u,
      methods: {
        GET: () => {
          const { ready, reason } = ctx.readiness();
          return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', reason });
        },
      },
    },
    { name: '/metrics', pattern: /^\/metrics$/u, methods: { GET: () => ({ status: 200, body: ctx.metrics.render(), contentType: PROMETHEUS_CONTENT_TYPE }) } },
    {
      name: '/v1/bindings',
      pattern: /^\/v1\/bindings\/?$/u,
      methods: { GET: (_req, _res, url) => json(200, { items: ctx.bindings.list(url.searchParams.get('source') ?? '') }) },
    },
    {
      name: '/v1/bindings/{port}',
      pattern: /^\/v1\/bindings\/([^/]+)$/u,
      methods: {
        GET: (_req, _res, _url, param) => json(200, ctx.bindings.get(portFromUrl(param))),
        PUT: async (req, _res, _url, param) => {
          const port = portFromUrl(param);
          const body = await readJsonBody(req);
          const outcome = await ctx.bindings.put(port, body);
          return json(outcome.created ? 201 : 200, { port, source: `api:${port}`, created: outcome.created, changed: outcome.changed, binding: outcome.binding, generation: outcome.generation, revision: ctx.hub.revision });
        },
        DELETE: async (_req, _res, _url, param) => {
          const port = portFromUrl(param);
          await ctx.bindings.delete(port);
          return json(202, { port, deleted: true, revision: ctx.hub.revision });
        },
      },
    },
    {
      name: '/v1/status',
      pattern: /^\/v1\/status\/?$/u,
      methods: {
        GET: () => {
          const items = [...ctx.statuses()].sort((a, b) => a.port.localeCompare(b.port));
          return json(200, { revision: ctx.hub.revision, summary: ctx.summary(), items, invalidDocuments: ctx.documents?.() ?? [] });
        },
      },
    },
    { name: '/v1/status/{port}', pattern: /^\/v1\/status\/([^/]+)$/u, methods: { GET: (_req, _res, _url, param) => json(200, findStatus(ctx, portFromUrl(param))) } },
    {
      name: '/v1/watch',
      pattern: /^\/v1\/watch\/?$/u,
      methods: {
        GET: (req, res, url) => {
          serveWatch(ctx.hub, req, res, url);
          return 'streaming';
        },
      },
    },
  ];
}

export function matchRoute(routes: readonly Route[], method: string, pathname: string): { name: string; handler: Handler; param: string } {
  for (const route of routes) {
    const match = route.pattern.exec(pathname);
    if (!match) continue;
    const handler = route.methods[method] ?? (method === 'HEAD' ? route.methods['GET'] : undefined);
    if (!handler) throw new MethodNotAllowedError(method, Object.keys(route.methods));
    let param = '';
    try {
      param = decodeURIComponent(match[1] ?? '');
    } catch {
      param = match[1] ?? '';
    }
    return { name: route.name, handler, param };
  }
  throw new NotFoundError(`no such endpoint: ${pathname}`);
}
