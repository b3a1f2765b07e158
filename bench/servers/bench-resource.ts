/** The API every OAuth benchmark server issues client-credentials tokens for (RFC 8707 resource), and its scope. */
export const BENCH_RESOURCE = { resource: 'https://api.bench.example', scope: 'orders:read' } as const;

/** The client-credentials token request body every token benchmark posts (urlencoded). */
export function tokenRequestBody(): string {
  return new URLSearchParams({ grant_type: 'client_credentials', resource: BENCH_RESOURCE.resource, scope: BENCH_RESOURCE.scope }).toString();
}
