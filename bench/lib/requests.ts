import type { LoadRequest } from './load.js';
import type { ServerProcess } from './server-process.js';

/** A string field of a server's ready line; throws when the server did not print one. */
export function readyString(ready: Record<string, unknown>, name: string): string {
  const value = ready[name];
  if (typeof value !== 'string' || value === '') throw new Error(`the ready line has no string "${name}"`);
  return value;
}

/** `Basic base64(urlencode(id):urlencode(secret))`, client authentication as RFC 6749 §2.3.1 spells it. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  // §2.3.1 says application/x-www-form-urlencoded (space as +); encodeURIComponent differs only there.
  const encode = (value: string): string => encodeURIComponent(value).replaceAll('%20', '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/** A form POST (`application/x-www-form-urlencoded`), with an Authorization header when given. */
export function formPost(path: string, body: string, authorization?: string): LoadRequest {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (authorization) headers.authorization = authorization;
  return { path, method: 'POST', headers, body };
}

/** A JSON POST of `value`, with extra headers (e.g. Origin). */
export function jsonPost(path: string, value: unknown, headers: Record<string, string> = {}): LoadRequest {
  return { path, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

/** One response to a request a load would repeat, read whole. */
export interface CheckedResponse {
  status: number;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** Sends `request` once to `server` with fetch, and returns the status and body. */
export async function sendOnce(server: ServerProcess, request: LoadRequest): Promise<CheckedResponse> {
  const response = await fetch(`${server.url}${request.path}`, {
    method: request.method ?? 'GET',
    ...(request.headers ? { headers: request.headers } : {}),
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const body = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: response.status, body, json };
}
