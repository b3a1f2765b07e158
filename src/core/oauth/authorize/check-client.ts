import { AuthError } from '../../errors.js';
import type { OAuthClient } from '../../ports.js';
import { param, type AuthorizeState } from './authorization-request.js';

/** RFC 6749 §4.1.1: client_id is required and must name a registered client (an error page, never a redirect). */
export async function checkClient(state: AuthorizeState, findClient: (id: string) => Promise<OAuthClient | undefined>): Promise<void> {
  const clientId = param(state.params, 'client_id');
  if (clientId === undefined) throw new AuthError('invalid_request', { description: 'The request has no client_id.' });
  const client = clientId.length <= 256 ? await findClient(clientId) : undefined;
  // Not invalid_client: RFC 6749 §4.1.2.1 does not define it here, and its 401 Basic challenge (§5.2) would make a browser ask for a password.
  if (!client) throw new AuthError('invalid_request', { description: 'The application that sent you here is not registered.', detail: 'unknown client_id' });
  state.client = client;
}
