// The floor "a Fastify Map lookup": GET /api/session reads the cookie, finds the session in a Map of
// 10,000 entries and answers Gatehouse's JSON shape through the same kind of response schema.
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { announceReady, benchPort, exitOnSignals } from '../lib/serve.js';
import { sampleSessionRecord, sessionBody, sessionBodySchema, type SessionRecord } from '../lib/session-body.js';

const COOKIE = 'session';
const sessions = new Map<string, SessionRecord>();
let token = '';
for (let i = 0; i < 10_000; i++) {
  token = randomBytes(32).toString('base64url');
  sessions.set(token, sampleSessionRecord(i));
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4: `name=value` pairs separated by `; `). */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const index = pair.indexOf('=');
    if (index > 0 && pair.slice(0, index).trim() === name) return pair.slice(index + 1).trim();
  }
  return undefined;
}

const app = Fastify({ logger: false });
app.get('/api/session', { schema: { response: { 200: sessionBodySchema, 401: { type: 'object', properties: { error: { type: 'string' }, error_description: { type: 'string' } } } } } }, async (request, reply) => {
  const found = sessions.get(cookieValue(request.headers.cookie, COOKIE) ?? '');
  if (!found) return reply.code(401).send({ error: 'unauthenticated', error_description: 'no session' });
  return sessionBody(found);
});
await app.listen({ port: benchPort(), host: '127.0.0.1' });
exitOnSignals(() => app.close());
announceReady({ cookie: `${COOKIE}=${token}` });
