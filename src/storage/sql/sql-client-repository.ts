import type { Insertable, Kysely, Selectable } from 'kysely';
import { AuthError } from '../../core/errors.js';
import type { ClientRepository, GrantType, OAuthClient, SigningAlgorithm, TokenEndpointAuthMethod } from '../../core/ports.js';
import { isUniqueViolation } from './dialect.js';
import { preparedQuery, type ArgumentOf } from './prepared-query.js';
import type { Database, OAuthClientsTable } from './schema.js';

// The list columns hold JSON arrays of strings (text on both engines).
const parseList = <T extends string>(text: string): T[] => JSON.parse(text) as T[];

function toClient(row: Selectable<OAuthClientsTable>): OAuthClient {
  return {
    id: row.id,
    name: row.name,
    type: row.type as OAuthClient['type'],
    secretHash: row.secret_hash,
    redirectUris: parseList(row.redirect_uris),
    postLogoutRedirectUris: parseList(row.post_logout_redirect_uris),
    grantTypes: parseList<GrantType>(row.grant_types),
    scopes: parseList(row.scopes),
    tokenEndpointAuthMethod: row.token_endpoint_auth_method as TokenEndpointAuthMethod,
    jwks: row.jwks,
    firstParty: row.first_party === 1,
    requireMfa: row.require_mfa === 1,
    accessTokenLifetime: row.access_token_lifetime,
    idTokenSignedResponseAlg: row.id_token_signed_response_alg as SigningAlgorithm,
    source: row.source as OAuthClient['source'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function clientRow(client: OAuthClient): Insertable<OAuthClientsTable> {
  return {
    id: client.id,
    name: client.name,
    type: client.type,
    secret_hash: client.secretHash,
    redirect_uris: JSON.stringify(client.redirectUris),
    post_logout_redirect_uris: JSON.stringify(client.postLogoutRedirectUris),
    grant_types: JSON.stringify(client.grantTypes),
    scopes: JSON.stringify(client.scopes),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    jwks: client.jwks,
    first_party: client.firstParty ? 1 : 0,
    require_mfa: client.requireMfa === true ? 1 : 0,
    access_token_lifetime: client.accessTokenLifetime,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    source: client.source,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
  };
}

export function createSqlClientRepository(db: Kysely<Database>): ClientRepository {
  // Every token request reads its client: built once (prepared-query.ts).
  const byId = preparedQuery(db, (arg: ArgumentOf<{ id: string }>) => db.selectFrom('oauth_clients').selectAll().where('id', '=', arg('id')));
  return {
    async insert(client) {
      try {
        await db.insertInto('oauth_clients').values(clientRow(client)).execute();
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new AuthError('invalid_request', { description: 'A client with this id already exists.', cause: error });
        }
        throw error;
      }
    },
    // One statement, so two instances applying the same config at start cannot collide on the key.
    async upsert(client) {
      const { id, ...fields } = clientRow(client);
      await db
        .insertInto('oauth_clients')
        .values({ id, ...fields })
        .onConflict((oc) => oc.column('id').doUpdateSet(fields))
        .execute();
    },
    async findById(id) {
      const row = await byId.first({ id });
      return row && toClient(row);
    },
    async list() {
      const rows = await db.selectFrom('oauth_clients').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(toClient);
    },
    async delete(id) {
      const result = await db.deleteFrom('oauth_clients').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
