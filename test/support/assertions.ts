import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/** A JSON error answer: the status, `{ error, error_description }` and nothing else, never cached. */
export function expectJsonError(response: LightMyRequestResponse, status: number, error: string): void {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers['cache-control']).toBe('no-store');
  const body = response.json();
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
}

/** The /account forms, as the redirect after a refusal names them. */
export type AccountFormName = 'profile' | 'providers' | 'consents' | 'sessions' | 'password' | 'set-password' | 'email' | 'delete';

/**
 * A refused /account form (post/redirect/get): 303 to `/account?error=CODE&form=FORM` (no fragment:
 * it would stop the autofocus),
 * and that URL (reloaded twice: no 404, nothing re-submitted) shows one message, inside the
 * section of that form (or `options.section`: a password form posted for the other kind of
 * account answers in the section the page has), focusable and autofocused. Returns the page.
 */
export async function expectAccountFormError(
  agent: { get(url: string): Promise<LightMyRequestResponse> },
  response: LightMyRequestResponse,
  form: AccountFormName,
  code: string,
  options: { section?: AccountFormName; wait?: number } = {},
): Promise<LightMyRequestResponse> {
  expect(response.statusCode, response.body.slice(0, 300)).toBe(303);
  const url = new URL(String(response.headers.location), 'http://localhost:8080');
  expect(url.origin).toBe('http://localhost:8080');
  expect(url.pathname).toBe('/account');
  expect(Object.fromEntries(url.searchParams)).toEqual({ error: code, form, ...(options.wait === undefined ? {} : { wait: String(options.wait) }) });
  expect(url.hash).toBe('');
  let page: LightMyRequestResponse | undefined;
  for (let load = 0; load < 2; load += 1) {
    page = await agent.get(`${url.pathname}${url.search}`);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body.match(/class="alert form-error"/g)).toHaveLength(1);
    expect(page.body).toMatch(new RegExp(`<div class="alert form-error" role="alert" id="${form}-error" tabindex="-1" autofocus>[^<]+</div>`));
    expect(sectionOf(page.body, options.section ?? form)).toContain(`id="${form}-error"`);
  }
  return page!;
}

/** The HTML of the account page's section that holds `form`. */
export function sectionOf(body: string, form: AccountFormName): string {
  const start = body.indexOf(`aria-labelledby="${form}-heading"`);
  expect(start, `no section for ${form}`).toBeGreaterThan(-1);
  return body.slice(start, body.indexOf('</section>', start));
}
