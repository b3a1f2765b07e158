import { AuthError } from '../../errors.js';
import { params } from '../params.js';
import type { ScopeCatalog } from '../scopes.js';
import type { AuthorizeState } from './authorization-request.js';

/**
 * RFC 8707 §2: each `resource` is an absolute URI without a fragment and, here, one the
 * configuration declares; API scopes must belong to a requested resource.
 */
export function checkResource(state: AuthorizeState, catalog: ScopeCatalog): void {
  state.request.resources = parseResources(params(state.params, 'resource'), catalog);
  catalog.audienceFor(state.request.scopes!, state.request.resources);
}

/** Validates resource indicators against the catalog. @throws AuthError `invalid_target`. */
export function parseResources(resources: readonly string[], catalog: ScopeCatalog): string[] {
  for (const resource of resources) {
    if (!URL.canParse(resource) || resource.includes('#')) {
      throw new AuthError('invalid_target', { description: 'A resource must be an absolute URI without a fragment.' });
    }
    if (!catalog.findResource(resource)) throw new AuthError('invalid_target', { description: 'The requested resource is not known here.' });
  }
  return [...new Set(resources)];
}
