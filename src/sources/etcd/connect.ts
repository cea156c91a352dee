// An EtcdClient from the command-line view of a connection: endpoints, TLS
// files, user and password file. Shared by `vifd run` and `vifd status`.
import type { Logger } from 'pino';
import { EtcdClient, type EtcdAuthOptions } from './client.js';
import { TlsAgents, type EtcdTlsFiles } from './tls.js';

export interface EtcdConnectionOptions {
  endpoints: string[];
  tls?: EtcdTlsFiles | undefined;
  auth?: EtcdAuthOptions | undefined;
}

/** Throws EtcdTlsFileError (naming the file) when the TLS files are unusable. */
export function createEtcdClient(o: EtcdConnectionOptions, logger?: Logger, onCounters?: () => void, timeoutMs = 5000): { client: EtcdClient; tls: TlsAgents | undefined } {
  const https = o.endpoints.some((e) => e.startsWith('https:'));
  const tls = https
    ? new TlsAgents(o.tls ?? {}, {
        onReload: () => {
          logger?.info({ files: o.tls }, 'etcd TLS files changed: new certificates in use for new connections');
          onCounters?.();
        },
        onFailure: (error) => {
          logger?.error({ err: error, code: error.code }, `etcd TLS files unusable (the last good ones stay in use): ${error.message}`);
          onCounters?.();
        },
      })
    : undefined;
  return { client: new EtcdClient(o.endpoints, timeoutMs, { tls, auth: o.auth, onStats: onCounters }), tls };
}
