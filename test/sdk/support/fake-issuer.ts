import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SignedKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** An Ed25519 key pair with its public JWK (kid, alg, use set). */
export async function createSigningKey(kid: string): Promise<SignedKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' } };
}

/** Signs a JWT with any header and claims (including wrong ones, which is the point). */
export async function signToken(key: SignedKey, header: Record<string, unknown>, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', ...header }).sign(key.privateKey);
}

interface StoredRevocation {
  cursor: number;
  jti: string;
  exp: number;
}

export interface StreamRequest {
  since: string | null;
  lastEventId: string | null;
}

/**
 * A tiny issuer on 127.0.0.1 speaking the protocol the SDK consumes: discovery, JWKS, and the
 * revocation feed (`GET /revocations?since=`, `GET /revocations/stream` as Server-Sent Events).
 * Its knobs let a test break it on purpose.
 */
export class FakeIssuer {
  readonly server: Server;
  issuer = '';
  keys: JWK[] = [];
  /** Overrides the `issuer` in the discovery document. */
  discoveryIssuer: string | undefined;
  /** Answer discovery with this status instead of 200 while > 0 requests remain. */
  failDiscovery = 0;
  publishFeed = true;
  /** `more: true` pages of at most this many revocations. */
  pageSize = 100;
  /** `retry:` sent at the start of each stream, in ms (undefined: none). */
  streamRetryMs: number | undefined = 100;
  jwksCacheControl = 'public, max-age=300';
  /** While set, the JWKS answers this status. */
  jwksStatus: number | undefined;
  /** While set, both feed endpoints answer this status (with `Retry-After: feedRetryAfter`). */
  feedStatus: number | undefined;
  feedRetryAfter = '0';
  /** The next stream requests are answered with these statuses and Retry-After values. */
  readonly streamFailures: Array<{ status: number; retryAfter?: string }> = [];
  readonly requests: string[] = [];
  readonly streamRequests: Array<StreamRequest & { at: number }> = [];
  readonly #revocations: StoredRevocation[] = [];
  readonly #streams = new Set<ServerResponse>();
  #cursor = 0;
  #keepalive: NodeJS.Timeout | undefined;

  private constructor() {
    this.server = createServer((request, response) => this.#handle(request, response));
  }

  static async start(keys: JWK[] = []): Promise<FakeIssuer> {
    const fake = new FakeIssuer();
    fake.keys = keys;
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.issuer = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  count(path: string): number {
    return this.requests.filter((url) => url.split('?')[0] === path).length;
  }

  get openStreams(): number {
    return this.#streams.size;
  }

  /** Revokes a token: stored for polls, pushed to every open stream. Returns the new cursor. */
  revoke(jti: string, exp: number): string {
    const entry = { cursor: ++this.#cursor, jti, exp };
    this.#revocations.push(entry);
    for (const stream of this.#streams) stream.write(this.#event(entry));
    return String(entry.cursor);
  }

  /** Writes raw bytes into every open stream (for malformed events). */
  writeRaw(chunk: string): void {
    for (const stream of this.#streams) stream.write(chunk);
  }

  /**
   * Writes `: keepalive` to every open stream every `intervalMs`, as Gatehouse does every 15 s;
   * `undefined` stops it (the default: open streams stay silent between events).
   */
  keepalive(intervalMs: number | undefined): void {
    clearInterval(this.#keepalive);
    this.#keepalive = undefined;
    if (intervalMs === undefined) return;
    this.#keepalive = setInterval(() => this.writeRaw(': keepalive\n\n'), intervalMs);
    this.#keepalive.unref();
  }

  /** Drops every open stream connection, as a restarting server or a proxy would. */
  dropStreams(): void {
    for (const stream of this.#streams) stream.destroy();
    this.#streams.clear();
  }

  async close(): Promise<void> {
    this.keepalive(undefined);
    this.dropStreams();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #event(entry: StoredRevocation): string {
    return `id: ${entry.cursor}\nevent: revocation\ndata: ${JSON.stringify({ jti: entry.jti, exp: entry.exp })}\n\n`;
  }

  #json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', this.issuer);
    this.requests.push(`${url.pathname}${url.search}`);
    if (this.feedStatus !== undefined && url.pathname.startsWith('/revocations')) {
      this.#json(response, this.feedStatus, { error: 'unavailable' }, { 'retry-after': this.feedRetryAfter });
      return;
    }
    switch (url.pathname) {
      case '/.well-known/openid-configuration': {
        if (this.failDiscovery > 0) {
          this.failDiscovery--;
          this.#json(response, 500, { error: 'server_error' });
          return;
        }
        this.#json(response, 200, {
          issuer: this.discoveryIssuer ?? this.issuer,
          jwks_uri: `${this.issuer}/jwks`,
          ...(this.publishFeed ? { gatehouse_revocation_feed: `${this.issuer}/revocations` } : {}),
        });
        return;
      }
      case '/jwks':
        if (this.jwksStatus !== undefined) this.#json(response, this.jwksStatus, { error: 'unavailable' });
        else this.#json(response, 200, { keys: this.keys }, { 'cache-control': this.jwksCacheControl });
        return;
      case '/revocations': {
        const since = Number(url.searchParams.get('since') ?? 0);
        const after = this.#revocations.filter((r) => r.cursor > since);
        const page = after.slice(0, this.pageSize);
        const cursor = page.at(-1)?.cursor ?? Math.max(since, this.#cursor);
        this.#json(response, 200, { revocations: page.map(({ jti, exp }) => ({ jti, exp })), cursor: String(cursor), more: after.length > page.length });
        return;
      }
      case '/revocations/stream': {
        const failure = this.streamFailures.shift();
        if (failure) {
          this.#json(response, failure.status, { error: 'slow_down' }, failure.retryAfter ? { 'retry-after': failure.retryAfter } : {});
          return;
        }
        const lastEventId = (request.headers['last-event-id'] as string | undefined) ?? null;
        const since = url.searchParams.get('since');
        this.streamRequests.push({ since, lastEventId, at: Date.now() });
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        response.write(this.streamRetryMs === undefined ? ': hello\n\n' : `retry: ${this.streamRetryMs}\n\n`);
        const from = Number(since ?? lastEventId ?? 0);
        for (const entry of this.#revocations) if (entry.cursor > from) response.write(this.#event(entry));
        this.#streams.add(response);
        response.on('close', () => this.#streams.delete(response));
        return;
      }
      default:
        this.#json(response, 404, { error: 'not_found' });
    }
  }
}

/** Waits until `condition` holds (checked every 20 ms), failing after `timeoutMs`. Asserts no timing. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
