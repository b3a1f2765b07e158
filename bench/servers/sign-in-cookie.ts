import type { FastifyInstance } from 'fastify';

/**
 * Signs in through `POST /api/login` (JSON, with the issuer's Origin as a browser would send) and
 * returns the session cookie as a `Cookie` header value (`NAME=ID`).
 */
export async function signInCookie(app: FastifyInstance, options: { origin: string; email: string; password: string; sessionCookie: string }): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/login',
    headers: { 'content-type': 'application/json', origin: options.origin },
    payload: JSON.stringify({ email: options.email, password: options.password }),
  });
  if (response.statusCode !== 200) throw new Error(`POST /api/login answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
  const session = (response.cookies as Array<{ name: string; value: string }>).find((cookie) => cookie.name === options.sessionCookie);
  if (!session) throw new Error('POST /api/login set no session cookie');
  return `${session.name}=${session.value}`;
}
