import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { MailKind } from '../../../src/core/mail-ports.js';
import type { TestAgent } from '../../support/agent.js';
import type { TestGatehouse } from '../../support/gatehouse.js';
import { linkIn } from '../../support/mailbox.js';
import { ISSUER } from '../../support/oauth.js';

export const SESSION_COOKIE = '__Host-gatehouse';

/** The path and query of the newest `kind` link emailed to `address`, once the email work has settled. */
export async function emailedLink(t: TestGatehouse, address: string, kind: MailKind, path: '/verify-email' | '/reset-password'): Promise<string> {
  await t.mailSettled();
  const link = linkIn(t.mailbox!.last(address, kind), `${ISSUER}${path}?token=`);
  expect(link).toMatch(new RegExp(`^${ISSUER}${path}\\?token=ghe_[A-Za-z0-9_-]{43}$`));
  return link.slice(ISSUER.length);
}

/**
 * Opens a verification link as a person does: the page asks first, the button verifies. Returns the
 * page the button leads to, or the first page when it offers no button (an invalid link).
 */
export async function openVerifyLink(agent: TestAgent, path: string): Promise<LightMyRequestResponse> {
  const page = await agent.get(path);
  if (page.statusCode !== 200 || !page.body.includes('action="/verify-email"')) return page;
  // Opening the page verifies nothing yet (a mail scanner that fetches the link does not verify it).
  return agent.postForm('/verify-email', { token: new URL(path, ISSUER).searchParams.get('token') ?? '' });
}

/** How many `kind` messages `address` has received, once the email work has settled. */
export async function received(t: TestGatehouse, address: string, kind: MailKind): Promise<number> {
  await t.mailSettled();
  return t.mailbox!.to(address).filter((m) => m.kind === kind).length;
}

/** A link's token with its last character changed (still well-formed). */
export function tampered(path: string): string {
  return path.slice(0, -1) + (path.endsWith('A') ? 'B' : 'A');
}

/** An `invalid_link` page: 400, HTML, and a way to ask for a new link. */
export function expectInvalidLink(response: LightMyRequestResponse, ask: '/verify-email/resend' | '/forgot-password'): void {
  expect(response.statusCode, response.body.slice(0, 300)).toBe(400);
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.body).toContain('data-error="invalid_link"');
  expect(response.body).toContain(ask === '/forgot-password' ? 'href="/forgot-password"' : 'action="/verify-email/resend"');
}

/**
 * What must be identical between two answers that may not tell addresses apart: the CSRF token
 * normalised, and the address the form echoes back (`typed`).
 */
export function comparable(response: LightMyRequestResponse, typed?: string): Record<string, unknown> {
  return {
    status: response.statusCode,
    contentType: response.headers['content-type'],
    cacheControl: response.headers['cache-control'],
    retryAfter: response.headers['retry-after'],
    location: response.headers.location,
    cookies: response.cookies.map((c) => c.name).sort(),
    body: response.body.replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value="CSRF"').replaceAll(typed ?? '\0', 'TYPED'),
  };
}
