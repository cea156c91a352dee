// `vifd status --api ADDRESS`: the statuses from a running vifd, over its API.
import { parseApiAddress, readTokenFile, type ApiAddress } from '../api/address.js';
import { ApiClient } from '../api/client.js';
import { ApiAddressError } from '../api/errors.js';
import { VifdError } from '../errors/vifd-error.js';
import type { BindingStatus } from '../model/status.js';
import { UsageError } from './options.js';

/** The daemon answered with an error status. */
export class ApiStatusError extends VifdError<'API_ERROR'> {
  constructor(readonly status: number, body: string) {
    super('API_ERROR', `vifd API answered HTTP ${status}: ${body.trim()}`, { fields: { status } });
  }
}

export async function apiClientFor(api: string, tokenFile: string | undefined): Promise<ApiClient> {
  let address: ApiAddress;
  try {
    address = parseApiAddress(api);
  } catch (error) {
    if (error instanceof ApiAddressError) throw new UsageError(error.message);
    throw error;
  }
  const token = tokenFile === undefined ? undefined : await readTokenFile(tokenFile);
  return new ApiClient(address, token, 1);
}

export interface InvalidDocumentView {
  source: string;
  problems: Array<{ path: string; message: string }>;
}

export async function fetchStatuses(client: ApiClient): Promise<{ revision: number; items: BindingStatus[]; invalidDocuments?: InvalidDocumentView[] }> {
  const res = await client.request<{ revision: number; items: BindingStatus[]; invalidDocuments?: InvalidDocumentView[] }>('GET', '/v1/status');
  if (res.status !== 200) throw new ApiStatusError(res.status, res.text);
  return res.body;
}
