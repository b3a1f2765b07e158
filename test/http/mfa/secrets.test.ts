import SQLite from 'better-sqlite3';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent } from '../../support/agent.js';
import { startTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { captureLogs } from '../../support/logs.js';
import { enrolmentOf, recoveryCodesOf, testApp } from '../../support/mfa.js';
import { PASSWORD } from '../../support/oauth.js';
import { SoftAuthenticator } from '../../support/soft-authenticator.js';

const EMAIL = 'ann@example.com';
const ORIGIN = 'http://localhost:8080';
const PENDING = '__Host-gatehouse-mfa';
const CEREMONY = '__Host-gatehouse-webauthn';

/** A TestAgent that keeps every response it was given, with the request that led to it. */
class RecordingAgent extends TestAgent {
  readonly responses: Array<{ url: string; response: LightMyRequestResponse }>;

  constructor(t: TestGatehouse, responses: Array<{ url: string; response: LightMyRequestResponse }>) {
    super(t.app);
    this.responses = responses;
  }

  #keep(url: string, response: LightMyRequestResponse): LightMyRequestResponse {
    this.responses.push({ url, response });
    return response;
  }

  override async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.#keep(`GET ${url}`, await super.get(url, headers));
  }

  override async postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.#keep(`POST ${url}`, await super.postForm(url, fields, headers));
  }

  override async postJson(url: string, json: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.#keep(`POST ${url}`, await super.postJson(url, json, headers));
  }
}

/** Every value of every row of every table of the SQLite database, as one string. */
function databaseDump(path: string): string {
  const db = new SQLite(path, { readonly: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>;
    return tables.map(({ name }) => JSON.stringify(db.prepare(`select * from "${name}"`).all())).join('\n');
  } finally {
    db.close();
  }
}

/** The forms a secret may take in a log or a row: as given, without separators, either case. */
function formsOf(value: string): string[] {
  const plain = value.replaceAll(/[\s-]/g, '');
  return [...new Set([value, plain, value.toUpperCase(), plain.toUpperCase(), value.toLowerCase(), plain.toLowerCase()])];
}

/**
 * No second-factor secret leaks (OWASP ASVS V2.8, V7.1; STYLE.md: no secret in logs): not the TOTP
 * secret, not a recovery code, not a WebAuthn challenge, not a pending sign-in or ceremony ticket.
 * Each appears only where it must: the secret on its enrolment page, the codes on their page.
 */
describe('second-factor secrets stay out of logs, storage and other responses', () => {
  let t: TestGatehouse | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('a whole flow: enrol an app, sign in with codes, use a recovery code, passkey ceremonies', async () => {
    const logs = captureLogs();
    t = await startTestGatehouse({}, { logger: logs.logger });
    const responses: Array<{ url: string; response: LightMyRequestResponse }> = [];
    const secrets: { totp: string[]; recovery: string[]; challenges: string[]; tickets: string[] } = { totp: [], recovery: [], challenges: [], tickets: [] };

    // Enrol an authenticator app from /account (a wrong first code first).
    const owner = new RecordingAgent(t, responses);
    expect((await owner.signUp(EMAIL, PASSWORD)).statusCode).toBe(303);
    const enrolmentPage = await owner.get('/account/authenticator');
    const enrolment = enrolmentOf(enrolmentPage);
    const base32 = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(enrolmentPage.body)![1]!.replaceAll(' ', '');
    secrets.totp.push(base32, enrolment.secret.toString('base64url'), enrolment.secret.toString('base64'), enrolment.secret.toString('hex'));
    const app = testApp(enrolment.secret, t.clock);
    const wrong = app.code() === '000000' ? '111111' : '000000';
    expect((await owner.postForm('/account/authenticator', { factor: enrolment.factor, code: wrong, name: 'Phone' })).statusCode).toBe(400);
    const codesPage = await owner.postForm('/account/authenticator', { factor: enrolment.factor, code: app.code(), name: 'Phone' });
    const recoveryCodes = recoveryCodesOf(codesPage.body);
    expect(recoveryCodes).toHaveLength(10);
    secrets.recovery.push(...recoveryCodes);
    t.clock.advance(30_000);
    expect((await owner.get('/account')).statusCode).toBe(200);

    // Sign in with the password and the app's code (a wrong code first), by the page and by the API.
    const page = new RecordingAgent(t, responses);
    await page.logIn(EMAIL, PASSWORD);
    secrets.tickets.push(page.cookies.get(PENDING)!);
    await page.get('/login/second-factor');
    expect((await page.postForm('/login/second-factor', { method: 'totp', code: wrong })).statusCode).toBe(400);
    expect((await page.postForm('/login/second-factor', { method: 'totp', code: app.code() })).statusCode).toBe(303);

    t.clock.advance(30_000);
    const spa = new RecordingAgent(t, responses);
    expect((await spa.postJson('/api/login', { email: EMAIL, password: PASSWORD })).statusCode).toBe(401);
    secrets.tickets.push(spa.cookies.get(PENDING)!);
    expect((await spa.postJson('/api/login/second-factor', { method: 'totp', code: wrong })).statusCode).toBe(400);
    expect((await spa.postJson('/api/login/second-factor', { method: 'totp', code: app.code() })).statusCode).toBe(200);

    // A recovery code, then the same one again, and a made-up one.
    const recovering = new RecordingAgent(t, responses);
    await recovering.logIn(EMAIL, PASSWORD);
    secrets.tickets.push(recovering.cookies.get(PENDING)!);
    await recovering.get('/login/second-factor?use=recovery');
    expect((await recovering.postForm('/login/second-factor', { method: 'recovery', code: recoveryCodes[0]!.toUpperCase() })).statusCode).toBe(200);
    const reusing = new RecordingAgent(t, responses);
    await reusing.logIn(EMAIL, PASSWORD);
    secrets.tickets.push(reusing.cookies.get(PENDING)!);
    expect((await reusing.postForm('/login/second-factor', { method: 'recovery', code: recoveryCodes[0]! })).statusCode).toBe(400);
    expect((await reusing.postJson('/api/login/second-factor', { method: 'recovery', code: recoveryCodes[1]!.replace('-', '') })).statusCode).toBe(200);

    // Passkeys: add one from /account, sign in with it, use it as the second factor, and one refused assertion.
    const soft = new SoftAuthenticator();
    const creation = await owner.postJson('/account/passkeys/options', {});
    secrets.challenges.push((creation.json().options as PublicKeyCredentialCreationOptionsJSON).challenge);
    secrets.tickets.push(owner.cookies.get(CEREMONY)!);
    expect((await owner.postJson('/account/passkeys', { response: soft.create(creation.json().options, { origin: ORIGIN }) })).statusCode).toBe(200);

    const passkeyUser = new RecordingAgent(t, responses);
    const request = await passkeyUser.postJson('/login/passkey/options', {});
    const requestOptions = request.json().options as PublicKeyCredentialRequestOptionsJSON;
    secrets.challenges.push(requestOptions.challenge);
    secrets.tickets.push(passkeyUser.cookies.get(CEREMONY)!);
    expect((await passkeyUser.postJson('/login/passkey', { response: soft.get(requestOptions, { origin: 'https://evil.example' }) })).statusCode).toBe(401);
    const second = await passkeyUser.postJson('/login/passkey/options', {});
    secrets.challenges.push(second.json().options.challenge as string);
    secrets.tickets.push(passkeyUser.cookies.get(CEREMONY)!);
    expect((await passkeyUser.postJson('/login/passkey', { response: soft.get(second.json().options, { origin: ORIGIN }) })).statusCode).toBe(200);

    const both = new RecordingAgent(t, responses);
    await both.logIn(EMAIL, PASSWORD);
    secrets.tickets.push(both.cookies.get(PENDING)!);
    const secondFactor = await both.postJson('/login/second-factor/passkey/options', {});
    secrets.challenges.push(secondFactor.json().options.challenge as string);
    secrets.tickets.push(both.cookies.get(CEREMONY)!);
    expect((await both.postJson('/login/second-factor/passkey', { response: soft.get(secondFactor.json().options, { origin: ORIGIN }) })).statusCode).toBe(200);
    await t.mailSettled();

    for (const [kind, values] of Object.entries(secrets)) for (const value of values) expect(value, kind).toBeTruthy();

    // 1. No log line holds any of them, in any form.
    const text = logs.text();
    expect(logs.lines().length).toBeGreaterThan(20);
    for (const [kind, values] of Object.entries(secrets)) {
      for (const value of values) for (const form of formsOf(value)) expect(text.includes(form), `${kind} ${form} in the logs`).toBe(false);
    }

    // 2. The TOTP secret is on its enrolment pages only (the first, and the same enrolment shown again after the wrong code).
    const withSecret = responses.filter(({ response }) => secrets.totp.some((s) => formsOf(s).some((f) => response.body.includes(f)) || response.body.includes(base32.match(/.{1,4}/g)!.join(' '))));
    expect(withSecret.map((r) => r.url)).toStrictEqual(['GET /account/authenticator', 'POST /account/authenticator']);
    expect(withSecret[1]!.response.statusCode).toBe(400);
    for (const { response } of withSecret) expect(response.headers['cache-control']).toMatch(/no-store/);

    // 3. The recovery codes are on their page only: not on /account, not in any JSON.
    const withCodes = responses.filter(({ response }) => secrets.recovery.some((code) => formsOf(code).some((f) => response.body.includes(f))));
    expect(withCodes.map((r) => r.url)).toStrictEqual(['POST /account/authenticator']);
    expect(withCodes[0]!.response).toBe(codesPage);
    expect(codesPage.headers['cache-control']).toMatch(/no-store/);
    expect(responses.filter((r) => /json/.test(String(r.response.headers['content-type']))).length).toBeGreaterThan(5);

    // 4. Storage holds the secret sealed, the codes hashed: nothing of either in any row of any table.
    const userId = (await t.gatehouse.storage.users.findByEmailKey(EMAIL))!.id;
    const [factor] = await t.gatehouse.storage.totpFactors.listByUser(userId);
    expect(factor!.sealedSecret).toBeTruthy();
    for (const value of secrets.totp) for (const form of formsOf(value)) expect(factor!.sealedSecret.includes(form)).toBe(false);
    const dump = databaseDump(t.gatehouse.config.databaseUrl);
    expect(dump).toContain(factor!.sealedSecret);
    for (const [kind, values] of Object.entries({ totp: secrets.totp, recovery: secrets.recovery })) {
      for (const value of values) for (const form of formsOf(value)) expect(dump.includes(form), `${kind} ${form} stored`).toBe(false);
    }
    const db = new SQLite(t.gatehouse.config.databaseUrl, { readonly: true });
    const rows = db.prepare('select code_hash from recovery_codes where user_id = ?').all(userId) as Array<{ code_hash: string }>;
    db.close();
    expect(rows).toHaveLength(10);
    for (const { code_hash } of rows) expect(code_hash.length).toBeGreaterThanOrEqual(32);
  });

  it('the first passkey of a password account returns its recovery codes in JSON: never cached', async () => {
    t = await startTestGatehouse();
    const owner = new TestAgent(t.app);
    await owner.signUp(EMAIL, PASSWORD);
    const creation = await owner.postJson('/account/passkeys/options', {});
    const added = await owner.postJson('/account/passkeys', { response: new SoftAuthenticator().create(creation.json().options, { origin: ORIGIN }) });
    expect(added.statusCode).toBe(200);
    const body = added.json() as { recoveryCodes?: string[] };
    expect(body.recoveryCodes).toHaveLength(10);
    expect(added.headers['cache-control']).toBe('no-store');
  });
});
