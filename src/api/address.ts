// `--api unix:PATH` | `--api tcp:127.0.0.1:PORT` (loopback only; a bearer
// token is required there). Also the token file reader.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ApiAddressError } from './errors.js';

export type ApiAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export const SOCKET_NAME = 'vifd.sock';

export function defaultApiAddress(stateDir: string): ApiAddress {
  return { kind: 'unix', path: join(stateDir, SOCKET_NAME) };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export function parseApiAddress(text: string): ApiAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '') throw new ApiAddressError('--api unix: needs a socket path');
    return { kind: 'unix', path };
  }
  if (text.startsWith('tcp:')) {
    const rest = text.slice('tcp:'.length);
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/u.exec(rest);
    if (!match) throw new ApiAddressError(`--api ${text}: expected tcp:HOST:PORT, e.g. tcp:127.0.0.1:8787`);
    const host = match[1] ?? match[2]!;
    const port = Number(match[3]);
    if (port < 1 || port > 65535) throw new ApiAddressError(`--api ${text}: port must be 1-65535`);
    if (!isLoopback(host)) throw new ApiAddressError(`--api ${text}: only a loopback address is allowed (127.0.0.0/8, ::1, localhost)`);
    return { kind: 'tcp', host, port };
  }
  throw new ApiAddressError(`--api ${text}: expected unix:PATH or tcp:HOST:PORT`);
}

export function formatApiAddress(address: ApiAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

/** The first line of the file, trimmed; an empty token is refused. */
export async function readTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ApiAddressError(`--api-token-file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const token = text.split('\n')[0]!.trim();
  if (token.length < 16) throw new ApiAddressError(`--api-token-file ${path}: the token must be at least 16 characters`);
  return token;
}
