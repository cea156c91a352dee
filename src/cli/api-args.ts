// --api unix:PATH | tcp:127.0.0.1:PORT and --api-token-file FILE, for
// `vifd run` and `vifd status`.
import { parseApiAddress, readTokenFile, type ApiAddress } from '../api/address.js';
import { ApiAddressError } from '../api/errors.js';
import { UsageError } from './options.js';

export { API_RUN_OPTIONS } from './option-tables.js';

export interface ApiArgs {
  address?: ApiAddress;
  token?: string;
}

export async function apiRunOptions(values: { api?: string | undefined; 'api-token-file'?: string | undefined }): Promise<ApiArgs> {
  let address: ApiAddress | undefined;
  try {
    address = values.api === undefined ? undefined : parseApiAddress(values.api);
  } catch (error) {
    if (error instanceof ApiAddressError) throw new UsageError(error.message);
    throw error;
  }
  const tokenFile = values['api-token-file'];
  if (address?.kind === 'tcp' && tokenFile === undefined) throw new UsageError('--api tcp:... needs --api-token-file FILE (the bearer token)');
  const token = tokenFile === undefined ? undefined : await readTokenFile(tokenFile);
  return { ...(address ? { address } : {}), ...(token ? { token } : {}) };
}
