import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { User } from '../../../src/core/ports.js';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { captureLogs } from '../../support/logs.js';
import { codeIn, linkIn } from '../../support/mailbox.js';
import { ISSUER, PASSWORD } from '../../support/oauth.js';

export const SESSION_COOKIE = '__Host-gatehouse';
export const BINDING_COOKIE = '__Host-gatehouse-email';
export const LINK_PREFIX = `${ISSUER}/login/email/link?token=`;

/** Both ways on (each test states what differs). */
export const BOTH_ON = { GATEHOUSE_EMAIL_SIGN_IN_LINK: 'true', GATEHOUSE_EMAIL_SIGN_IN_CODE: 'true' };

export interface EmailTestGatehouse extends TestGatehouse {
  /** The error code of the newest refusal Gatehouse logged (pages show no codes; the log does). */
  lastRefusal(): string | undefined;
  /** Everything logged, to check no token or code is in it. */
  logText(): string;
}

export async function startEmailGatehouse(env: Record<string, string> = {}): Promise<EmailTestGatehouse> {
  const logs = captureLogs();
  const t = await startTestGatehouse({ ...BOTH_ON, GATEHOUSE_LOG_LEVEL: 'info', ...env }, { logger: logs.logger });
  return {
    ...t,
    lastRefusal: () => logs.lines().filter((line) => typeof line.code === 'string').at(-1)?.code as string | undefined,
    logText: () => logs.text(),
  };
}

/** An account made by the CLI's path (no browser signed in). */
export function createUser(t: TestGatehouse, email: string): Promise<User> {
  return t.gatehouse.services.accounts.register({ email, password: PASSWORD }, { by: 'admin' });
}

/** Opens /login/email and asks for a link or code for `email`, as a browser would. */
export async function ask(agent: TestAgent, email: string, method: 'link' | 'code', extra: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  await agent.get(`/login/email?method=${method}`);
  return agent.postForm('/login/email', { email, method, ...extra });
}

/** The sign-in link last emailed to `email`, as a path to GET. */
export async function linkSentTo(t: TestGatehouse, email: string): Promise<string> {
  await t.mailSettled();
  const link = linkIn(t.mailbox!.last(email, 'sign-in-link'), LINK_PREFIX);
  return link.slice(ISSUER.length);
}

export async function codeSentTo(t: TestGatehouse, email: string): Promise<string> {
  await t.mailSettled();
  return codeIn(t.mailbox!.last(email, 'sign-in-code'));
}

/** The token a sign-in link carries. */
export function tokenOf(path: string): string {
  return new URL(path, ISSUER).searchParams.get('token')!;
}

/** The signed-in user of the agent's session cookie, or undefined. */
export async function sessionEmail(agent: TestAgent): Promise<string | undefined> {
  const response = await agent.get('/api/session', { accept: 'application/json' });
  if (response.statusCode === 401) return undefined;
  expect(response.statusCode).toBe(200);
  return (response.json() as { user: { email: string } }).user.email;
}

export function newAgent(t: TestGatehouse): TestAgent {
  return new TestAgent(t.app);
}
