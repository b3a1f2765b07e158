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
