import { Secret } from 'otpauth';
import { expect } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { ManualClock } from '../../src/core/clock.js';
import { totpCode, totpStep } from '../../src/core/mfa/totp.js';
import type { TestAgent } from './agent.js';
import { decodeEntities } from './oauth.js';

/** An authenticator app as a test holds it: the secret the enrolment page showed, on the test's clock. */
export interface TestApp {
  secret: Buffer;
  /** The code for now (plus `steps` periods of 30 seconds). */
  code(steps?: number): string;
}

export function testApp(secret: Buffer, clock: ManualClock): TestApp {
  return { secret, code: (steps = 0) => totpCode(secret, totpStep(clock.now()) + steps) };
}

/** The secret and factor id an enrolment page shows (as a person would read the key under the QR code). */
export function enrolmentOf(page: LightMyRequestResponse | { body: string }): { secret: Buffer; factor: string } {
  const key = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(page.body)?.[1];
  const factor = /<input type="hidden" name="factor" value="([^"]+)">/.exec(page.body)?.[1];
  expect(key, 'the enrolment page shows the key').toBeTruthy();
  expect(factor, 'the enrolment page names its factor').toBeTruthy();
  return { secret: Buffer.from(Secret.fromBase32(key!.replaceAll(' ', '')).bytes), factor: decodeEntities(factor!) };
}

/** The recovery codes a codes page shows. */
export function recoveryCodesOf(body: string): string[] {
  return [...body.matchAll(/<li><code>([0-9a-z]{5}-[0-9a-z]{5})<\/code><\/li>/g)].map((m) => m[1]!);
}

/** Adds an authenticator app to a signed-in agent's account from /account; returns it and the recovery codes shown. */
export async function addApp(agent: TestAgent, clock: ManualClock): Promise<{ app: TestApp; recoveryCodes: string[] }> {
  const page = await agent.get('/account/authenticator');
  expect(page.statusCode, page.body.slice(0, 300)).toBe(200);
  const { secret, factor } = enrolmentOf(page);
  const app = testApp(secret, clock);
  const confirmed = await agent.postForm('/account/authenticator', { factor, code: app.code(), name: 'Phone' });
  expect(confirmed.statusCode, confirmed.body.slice(0, 500)).toBe(200);
  const recoveryCodes = recoveryCodesOf(confirmed.body);
  expect(recoveryCodes).toHaveLength(10);
  // The enrolment's code is used up: the next sign-in needs the next one.
  clock.advance(30_000);
  return { app, recoveryCodes };
}
