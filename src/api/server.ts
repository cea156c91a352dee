// The HTTP API on node:http: a unix socket (mode 0600; a stale socket left by
// a dead vifd is replaced) or a loopback TCP port guarded by a bearer token.
import { timingSafeEqual } from 'node:crypto';
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Logger } from 'pino';
import { errorCode } from '../errors/vifd-error.js';
import { formatApiAddress, type ApiAddress } from './address.js';
import { ApiAddressError, ApiError, ApiSocketInUseError, MethodNotAllowedError, PayloadTooLargeError, UnauthorizedError } from './errors.js';
import { buildRoutes, matchRoute, type ApiContext, type Reply } from './routes.js';

export interface ApiServerOptions {
  address: ApiAddress;
  /** Required on TCP. */
  token?: string;
  logger: Logger;
  /** A BOOKMARK to every watch stream this often. */
  heartbeatMs?: number;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/iu.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** True when something answers on the socket path. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function clearStaleSocket(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch {
    return;
  }
  if (!info.isSocket()) throw new ApiAddressError(`${path} exists and is not a socket: not replacing it`);
  if (await socketAnswers(path)) throw new ApiSocketInUseError(path);
  await unlink(path);
}

function clientWentAway(req: IncomingMessage, error: unknown): boolean {
  const code = errorCode(error);
  return req.socket.destroyed || code === 'ECONNRESET' || code === 'ECONNABORTED' || (error instanceof Error && error.message === 'aborted');
}

export class ApiServer {
  private readonly server: Server;
  private readonly routes;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: ApiContext, private readonly o: ApiServerOptions) {
    if (o.address.kind === 'tcp' && !o.token) throw new ApiAddressError('--api tcp: needs --api-token-file');
    this.routes = buildRoutes(ctx);
    this.server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => void this.handle(req, res));
  }

  get url(): string {
    return formatApiAddress(this.o.address);
  }

  async start(): Promise<void> {
    const { address } = this.o;
    if (address.kind === 'unix') await clearStaleSocket(address.path);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      if (address.kind === 'unix') {
        // The socket is created by listen(): the umask makes it 0600 from birth.
        const umask = process.umask(0o177);
        try {
          this.server.listen(address.path, () => resolve());
        } finally {
          process.umask(umask);
        }
      } else {
        this.server.listen(address.port, address.host, () => resolve());
      }
    });
    if (address.kind === 'unix') await chmod(address.path, 0o600);
    this.heartbeat = setInterval(() => this.ctx.hub.bookmark(), this.o.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    this.o.logger.info({ api: this.url }, 'API listening');
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections(); // watch streams never end by themselves
    });
    if (this.o.address.kind === 'unix') await unlink(this.o.address.path).catch(() => undefined);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    let route = '(unmatched)';
    let reply: Reply;
    try {
      if (this.o.token !== undefined && !tokenMatches(req.headers.authorization, this.o.token)) throw new UnauthorizedError();
      const url = new URL(req.url ?? '/', 'http://vifd');
      const matched = matchRoute(this.routes, method, url.pathname);
      route = matched.name;
      reply = await matched.handler(req, res, url, matched.param);
    } catch (error) {
      if (clientWentAway(req, error)) {
        // A client that hung up mid-request (a slow or aborted upload): no
        // one to answer, nothing wrong with vifd.
        this.o.logger.debug({ method, url: req.url, reason: (error as Error).message }, 'API client went away mid-request');
        this.ctx.metrics.apiRequest(method, route, 499, undefined);
        return;
      }
      reply = this.errorReply(error, method, req.url);
      if (error instanceof PayloadTooLargeError && error.closeConnection) res.setHeader('connection', 'close');
      if (error instanceof UnauthorizedError) res.setHeader('www-authenticate', 'Bearer realm="vifd"');
      if (error instanceof MethodNotAllowedError) res.setHeader('allow', error.allowed.join(', '));
    }
    if (reply === 'streaming') {
      this.ctx.metrics.apiRequest(method, route, 200, undefined);
      return;
    }
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body) + '\n';
    if (!res.headersSent) {
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      res.end(method === 'HEAD' ? undefined : text);
    }
    this.ctx.metrics.apiRequest(method, route, reply.status, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private errorReply(error: unknown, method: string, url: string | undefined): Reply {
    if (error instanceof ApiError) {
      if (error.status >= 500) this.o.logger.error({ err: error, method, url }, 'API request failed');
      return { status: error.status, body: { code: error.code, message: error.message, ...error.fields } };
    }
    this.o.logger.error({ err: error, method, url }, 'API request failed');
    return { status: 500, body: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } };
  }
}
