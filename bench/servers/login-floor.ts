/**
 * The floor for password login: a minimal Fastify route that does one argon2id verification at
 * Gatehouse's default parameters and starts a session (a random id kept in a Map, sent as a cookie).
 */
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import Fastify from 'fastify';
import { gatehouseArgon2 } from './argon2-parameters.js';
import { announceReady, benchPort, runServer, stopOnSigterm } from './server-protocol.js';

/** Sessions kept at most (oldest dropped first), so a long storm holds bounded state. */
const MAX_SESSIONS = 100_000;

async function main(): Promise<void> {
  const port = benchPort();
  const email = 'bench-user@example.com';
  const password = randomBytes(18).toString('base64url');
  const stored = await hash(password, gatehouseArgon2);
  const sessions = new Map<string, string>();

  const app = Fastify({ logger: false });
  app.post<{ Body: { email?: unknown; password?: unknown } }>('/login', async (request, reply) => {
    const body = request.body ?? {};
    if (typeof body.email !== 'string' || typeof body.password !== 'string') return reply.code(400).send({ error: 'invalid_request' });
    const ok = (await verify(stored, body.password)) && body.email === email;
    if (!ok) return reply.code(401).send({ error: 'invalid_credentials' });
    const id = randomBytes(32).toString('base64url');
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
    sessions.set(id, email);
    reply.header('set-cookie', `session=${id}; Path=/; HttpOnly; SameSite=Lax`);
    return { user: { email } };
  });

  await app.listen({ port, host: '127.0.0.1' });
  stopOnSigterm(() => app.close());
  announceReady({ loginPath: '/login', email, password });
}

runServer(main);
