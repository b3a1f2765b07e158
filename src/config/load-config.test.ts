import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, issuerOrigin, loadConfig } from './load-config.js';
import { envNames } from './schema.js';

type Env = Record<string, string | undefined>;

function problemsOf(env: Env): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('loadConfig', () => {
  describe('defaults', () => {
    const { config, warnings } = loadConfig({});

    it('listens on localhost:8080 with the matching issuer', () => {
      expect(config.port).toBe(8080);
      expect(config.host).toBe('localhost');
      expect(config.issuer).toBe('http://localhost:8080');
      expect(issuerOrigin(config)).toBe('http://localhost:8080');
    });

    it('keeps the SQLite database under the data folder', () => {
      expect(config.dataDir).toBe('./data');
      expect(config.databaseUrl).toBe(join('./data', 'gatehouse.db'));
      expect(loadConfig({ GATEHOUSE_DATA_DIR: '/srv/gatehouse' }).config.databaseUrl).toBe('/srv/gatehouse/gatehouse.db');
    });

    it('uses a 30 minute idle timeout and a 7 day absolute lifetime, in seconds', () => {
      expect(config.sessionIdleTimeout).toBe(1800);
      expect(config.sessionAbsoluteLifetime).toBe(7 * 24 * 3600);
    });

    it('uses the OWASP argon2id parameters and secure switches', () => {
      expect([config.argon2MemoryCost, config.argon2TimeCost, config.argon2Parallelism]).toEqual([19456, 2, 1]);
      expect(config.dangerouslyAllowInsecureHttp).toBe(false);
      expect(config.trustProxy).toBe('');
      expect(config.passwordMinLength).toBe(8);
    });

    it('runs in development mode with no warnings', () => {
      expect(config.mode).toBe('development');
      expect(warnings).toEqual([]);
    });

    it('runs in production mode when NODE_ENV=production', () => {
      expect(loadConfig({ NODE_ENV: 'production', GATEHOUSE_SECRET: 'a'.repeat(43) }).config.mode).toBe('production');
    });

    it('requires GATEHOUSE_SECRET in production, never echoing it', () => {
      expect(problemsOf({ GATEHOUSE_MODE: 'production' })).toEqual([
        'GATEHOUSE_SECRET: is required in production (32 random bytes in base64url); development generates DATA_DIR/master.key',
      ]);
      const bad = problemsOf({ GATEHOUSE_SECRET: 'short-secret-value' });
      expect(bad).toHaveLength(1);
      expect(bad[0]).toMatch(/^GATEHOUSE_SECRET: must be one or more comma-separated keys/);
      expect(bad[0]).not.toContain('short-secret-value');
      expect(loadConfig({ GATEHOUSE_SECRET: `${'a'.repeat(43)},${'b'.repeat(43)}` }).config.secret).toBe(`${'a'.repeat(43)},${'b'.repeat(43)}`);
    });
  });

  describe('port', () => {
    it('reads GATEHOUSE_PORT and derives the default issuer from it', () => {
      const { config } = loadConfig({ GATEHOUSE_PORT: '9000' });
      expect(config.port).toBe(9000);
      expect(config.issuer).toBe('http://localhost:9000');
    });

    it('accepts PORT as an alias', () => {
      const { config } = loadConfig({ PORT: '3000' });
      expect(config.port).toBe(3000);
      expect(config.issuer).toBe('http://localhost:3000');
    });

    it('prefers GATEHOUSE_PORT over PORT', () => {
      expect(loadConfig({ GATEHOUSE_PORT: '9000', PORT: '3000' }).config.port).toBe(9000);
    });

    it('names PORT when the alias is the bad value', () => {
      expect(problemsOf({ PORT: 'http' })).toEqual(['PORT: must be a whole number from 0 to 65535 (got "http")']);
    });

    it.each(['abc', '80.5', '65536', '-1', ''])('refuses %j', (value) => {
      const problems = problemsOf({ GATEHOUSE_PORT: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^GATEHOUSE_PORT: must be a whole number/);
    });
  });

  describe('durations', () => {
    it.each([
      ['90s', 90],
      ['30m', 1800],
      ['2h', 7200],
      ['7d', 604800],
      ['1500ms', 2],
      ['600', 600],
      [' 45 ', 45],
    ])('reads %j as %i seconds', (value, seconds) => {
      expect(loadConfig({ GATEHOUSE_LOGIN_ATTEMPT_WINDOW: value }).config.loginAttemptWindow).toBe(seconds);
    });

    it('takes a number from a config file as seconds', () => {
      const path = configFile({ sessionTouchInterval: 120, sessionIdleTimeout: '45m' });
      const { config } = loadConfig({ GATEHOUSE_CONFIG: path });
      expect(config.sessionTouchInterval).toBe(120);
      expect(config.sessionIdleTimeout).toBe(2700);
    });

    it.each([
      ['soon', '"soon"'],
      ['1.5h', '"1.5h"'],
      ['30 minutes', '"30 minutes"'],
      ['-5m', '"-5m"'],
      ['0', '0'],
    ])('refuses %j with the expected form', (value, shown) => {
      expect(problemsOf({ GATEHOUSE_LOGIN_ATTEMPT_WINDOW: value })).toEqual([
        `GATEHOUSE_LOGIN_ATTEMPT_WINDOW: must be a duration such as "90s", "30m", "7d" or a number of seconds, from 1s to 31536000s (got ${shown})`,
      ]);
    });

    it('bounds durations above, so timers cannot overflow and dates stay valid', () => {
      expect(problemsOf({ GATEHOUSE_SESSION_CLEANUP_INTERVAL: '30d', GATEHOUSE_SESSION_ABSOLUTE_LIFETIME: '200000000d' })).toEqual([
        'GATEHOUSE_SESSION_ABSOLUTE_LIFETIME: must be a duration such as "90s", "30m", "7d" or a number of seconds, from 1s to 31536000s (got 17280000000000)',
        'GATEHOUSE_SESSION_CLEANUP_INTERVAL: must be a duration such as "90s", "30m", "7d" or a number of seconds, from 60s to 86400s (got 2592000)',
      ]);
    });
  });

  describe('numbers and booleans', () => {
    it('names multi-word and digit-bearing settings in SCREAMING_SNAKE_CASE', () => {
      expect(envNames('argon2MemoryCost')).toEqual(['GATEHOUSE_ARGON2_MEMORY_COST']);
      expect(envNames('argon2TimeCost')).toEqual(['GATEHOUSE_ARGON2_TIME_COST']);
      expect(envNames('sessionIdleTimeout')).toEqual(['GATEHOUSE_SESSION_IDLE_TIMEOUT']);
      expect(envNames('dangerouslyAllowInsecureHttp')).toEqual(['GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP']);
      expect(envNames('port')).toEqual(['GATEHOUSE_PORT', 'PORT']);
    });

    it('reads whole numbers', () => {
      const { config } = loadConfig({ GATEHOUSE_LOGIN_ACCOUNT_MAX_ATTEMPTS: '10', GATEHOUSE_ARGON2_MEMORY_COST: '65536' });
      expect(config.loginAccountMaxAttempts).toBe(10);
      expect(config.argon2MemoryCost).toBe(65536);
    });

    it('enforces the bounds of a number', () => {
      expect(problemsOf({ GATEHOUSE_PASSWORD_MIN_LENGTH: '6' })).toEqual(['GATEHOUSE_PASSWORD_MIN_LENGTH: must be a whole number from 8 to 64 (got 6)']);
      expect(problemsOf({ GATEHOUSE_ARGON2_MEMORY_COST: '1024' })[0]).toMatch(/^GATEHOUSE_ARGON2_MEMORY_COST: must be a whole number from 7168/);
    });

    it.each([
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['yes', true],
      ['on', true],
      ['false', false],
      ['0', false],
      ['no', false],
      ['off', false],
    ])('reads %j as %s', (value, expected) => {
      expect(loadConfig({ GATEHOUSE_SIGNUP_ENABLED: value }).config.signupEnabled).toBe(expected);
      expect(loadConfig({ GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP: value }).config.dangerouslyAllowInsecureHttp).toBe(expected);
    });

    it.each([['1'], ['2'], ['10.0.0.0/8'], ['10.0.0.1, 127.0.0.1'], ['::1'], ['fd00::/8']])('takes trusted proxies %j', (value) => {
      expect(loadConfig({ GATEHOUSE_TRUST_PROXY: value }).config.trustProxy).toBe(value);
    });

    it.each([['true'], ['yes'], ['a b'], ['*']])('refuses %j as trusted proxies (never trust every hop)', (value) => {
      expect(problemsOf({ GATEHOUSE_TRUST_PROXY: value })).toEqual([
        `GATEHOUSE_TRUST_PROXY: must be empty, a number of proxy hops, or comma-separated proxy addresses / CIDRs (got ${JSON.stringify(value)})`,
      ]);
    });

    it('refuses a boolean it cannot read', () => {
      expect(problemsOf({ GATEHOUSE_SIGNUP_ENABLED: 'maybe' })).toEqual(['GATEHOUSE_SIGNUP_ENABLED: must be true or false (got "maybe")']);
    });

    it('refuses a log level outside the list', () => {
      expect(problemsOf({ GATEHOUSE_LOG_LEVEL: 'loud' })[0]).toBe(
        'GATEHOUSE_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      );
    });
  });

  describe('problems', () => {
    it('lists every problem at once, each naming its GATEHOUSE_ variable', () => {
      let caught: unknown;
      try {
        loadConfig({ GATEHOUSE_PORT: 'abc', GATEHOUSE_SESSION_IDLE_TIMEOUT: 'soon' });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      const { problems, message } = caught as ConfigError;
      expect(problems).toHaveLength(2);
      expect(problems.find((p) => p.startsWith('GATEHOUSE_PORT:'))).toBeDefined();
      expect(problems.find((p) => p.startsWith('GATEHOUSE_SESSION_IDLE_TIMEOUT:'))).toBeDefined();
      expect(message).toContain('GATEHOUSE_PORT');
      expect(message).toContain('GATEHOUSE_SESSION_IDLE_TIMEOUT');
    });

    it('lists three problems from three settings', () => {
      expect(problemsOf({ GATEHOUSE_PORT: 'x', GATEHOUSE_TRUST_PROXY: 'x', GATEHOUSE_ARGON2_TIME_COST: 'x' })).toHaveLength(3);
    });

    it('never echoes a database URL', () => {
      const secret = 's3cr3t-pa55word';
      const path = configFile({ databaseUrl: { url: `postgres://gatehouse:${secret}@db.internal/gatehouse` } });
      let caught: unknown;
      try {
        loadConfig({ GATEHOUSE_CONFIG: path });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      const { problems, message } = caught as ConfigError;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/databaseUrl: must be a non-empty string$/);
      expect(message).not.toContain(secret);
      expect(JSON.stringify(problems)).not.toContain(secret);
    });

    it('does not echo an empty database URL either', () => {
      expect(problemsOf({ GATEHOUSE_DATABASE_URL: '' })).toEqual(['GATEHOUSE_DATABASE_URL: must be a non-empty string']);
    });

    it('does echo a non-secret value, so the contrast above means something', () => {
      expect(problemsOf({ GATEHOUSE_HOST: '' })).toEqual(['GATEHOUSE_HOST: must be a non-empty string (got "")']);
    });
  });

  describe('issuer', () => {
    it('accepts https anywhere and http on localhost', () => {
      expect(loadConfig({ GATEHOUSE_ISSUER: 'https://auth.example.com' }).warnings).toEqual([]);
      expect(loadConfig({ GATEHOUSE_ISSUER: 'http://127.0.0.1:8080' }).warnings).toEqual([]);
      expect(loadConfig({ GATEHOUSE_ISSUER: 'http://[::1]:8080' }).warnings).toEqual([]);
    });

    it('refuses plain http for another host and names the escape hatch', () => {
      const problems = problemsOf({ GATEHOUSE_ISSUER: 'http://auth.example.com' });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^GATEHOUSE_ISSUER: plain http is only allowed for localhost/);
      expect(problems[0]).toContain('GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP');
    });

    it('accepts plain http for another host with GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP, with a warning', () => {
      const { config, warnings } = loadConfig({ GATEHOUSE_ISSUER: 'http://auth.example.com', GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP: 'true' });
      expect(config.issuer).toBe('http://auth.example.com');
      expect(config.dangerouslyAllowInsecureHttp).toBe(true);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP');
      expect(warnings[0]).toContain('http://auth.example.com');
    });

    it('refuses GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP in production mode', () => {
      for (const env of [
        { GATEHOUSE_MODE: 'production', GATEHOUSE_SECRET: 'a'.repeat(43), GATEHOUSE_ISSUER: 'https://auth.example.com', GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP: 'true' },
        { NODE_ENV: 'production', GATEHOUSE_SECRET: 'a'.repeat(43), GATEHOUSE_ISSUER: 'http://auth.example.com', GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP: 'true' },
      ]) {
        expect(problemsOf(env)).toEqual(['GATEHOUSE_DANGEROUSLY_ALLOW_INSECURE_HTTP: is refused in production mode']);
      }
    });

    it.each([
      ['not a URL', 'auth.example.com', /must be an absolute URL/],
      ['another scheme', 'ftp://auth.example.com', /must use https/],
      ['a query', 'https://auth.example.com/?x=1', /must not contain a query/],
      ['credentials', 'https://user:pw@auth.example.com', /must not contain a query, fragment or credentials/],
    ])('refuses %s', (_label, issuer, message) => {
      const problems = problemsOf({ GATEHOUSE_ISSUER: issuer });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^GATEHOUSE_ISSUER: /);
      expect(problems[0]).toMatch(message);
    });
  });

  describe('cross-setting rules', () => {
    it('refuses an idle timeout longer than the absolute lifetime', () => {
      expect(problemsOf({ GATEHOUSE_SESSION_IDLE_TIMEOUT: '8d' })).toEqual([
        'GATEHOUSE_SESSION_IDLE_TIMEOUT: must not be longer than sessionAbsoluteLifetime',
      ]);
      expect(problemsOf({ GATEHOUSE_SESSION_ABSOLUTE_LIFETIME: '10m' })).toHaveLength(1);
    });

    it('accepts an idle timeout equal to the absolute lifetime', () => {
      expect(loadConfig({ GATEHOUSE_SESSION_IDLE_TIMEOUT: '1d', GATEHOUSE_SESSION_ABSOLUTE_LIFETIME: '24h' }).config.sessionIdleTimeout).toBe(86400);
    });

    it('refuses a touch interval that is not shorter than the idle timeout', () => {
      expect(problemsOf({ GATEHOUSE_SESSION_TOUCH_INTERVAL: '30m' })).toEqual([
        'GATEHOUSE_SESSION_TOUCH_INTERVAL: must be shorter than sessionIdleTimeout, or activity would never extend a session',
      ]);
      expect(loadConfig({ GATEHOUSE_SESSION_TOUCH_INTERVAL: '29m' }).config.sessionTouchInterval).toBe(1740);
    });

    it('refuses a first lockout longer than the longest', () => {
      expect(problemsOf({ GATEHOUSE_LOGIN_LOCKOUT: '1h', GATEHOUSE_LOGIN_LOCKOUT_MAX: '10m' })).toEqual([
        'GATEHOUSE_LOGIN_LOCKOUT: must not be longer than loginLockoutMax',
      ]);
    });

    it('refuses a headers timeout longer than the request timeout, and an idle timeout under the revocation stream keepalive', () => {
      expect(problemsOf({ GATEHOUSE_HTTP_HEADERS_TIMEOUT: '40s' })).toEqual([
        'GATEHOUSE_HTTP_HEADERS_TIMEOUT: must not be longer than httpRequestTimeout (the headers are part of the request)',
      ]);
      expect(problemsOf({ GATEHOUSE_HTTP_IDLE_TIMEOUT: '10s' })).toHaveLength(1);
      expect(loadConfig({ GATEHOUSE_HTTP_HEADERS_TIMEOUT: '5s', GATEHOUSE_HTTP_REQUEST_TIMEOUT: '5s' }).config).toMatchObject({ httpHeadersTimeout: 5, httpRequestTimeout: 5, httpIdleTimeout: 60 });
    });
  });

  describe('email (checkMail)', () => {
    const production = { GATEHOUSE_MODE: 'production', GATEHOUSE_SECRET: 'a'.repeat(43), GATEHOUSE_ISSUER: 'https://id.example.com' };

    it('accepts smtps:// and smtp:// URLs with credentials', () => {
      expect(loadConfig({ ...production, GATEHOUSE_SMTP_URL: 'smtps://user:p%40ss@mail.example.com:465' }).config.smtpUrl).toBe('smtps://user:p%40ss@mail.example.com:465');
      expect(loadConfig({ ...production, GATEHOUSE_SMTP_URL: 'smtp://mail.example.com:587', GATEHOUSE_EMAIL_VERIFICATION: 'required' }).config.emailVerification).toBe('required');
    });

    it('refuses a bad SMTP URL without echoing it (it may hold the password)', () => {
      for (const url of ['http://user:s3cret-pass@mail.example.com', 'smtp://user:s3cret-pass@', 'not a url s3cret-pass']) {
        const problems = problemsOf({ GATEHOUSE_SMTP_URL: url });
        expect(problems).toEqual(['GATEHOUSE_SMTP_URL: must be smtps://user:pass@host:465 or smtp://user:pass@host:587']);
        expect(problems.join('\n')).not.toContain('s3cret-pass');
      }
    });

    it('in production without SMTP refuses every setting that needs email, all listed at once', () => {
      const problems = problemsOf({ ...production, GATEHOUSE_EMAIL_VERIFICATION: 'required', GATEHOUSE_EMAIL_SIGN_IN_LINK: 'true', GATEHOUSE_EMAIL_SIGN_IN_CODE: 'true' });
      expect(problems.map((p) => p.split(':')[0])).toEqual(['GATEHOUSE_EMAIL_VERIFICATION', 'GATEHOUSE_EMAIL_SIGN_IN_LINK', 'GATEHOUSE_EMAIL_SIGN_IN_CODE']);
      expect(problems.every((p) => p.includes('GATEHOUSE_SMTP_URL'))).toBe(true);
      expect(problemsOf({ ...production, GATEHOUSE_EMAIL_VERIFICATION: 'optional' })).toHaveLength(1);
    });

    it('in production without SMTP accepts email off (the default) and verification off', () => {
      const { config } = loadConfig(production);
      expect(config.smtpUrl).toBeUndefined();
      expect(config).toMatchObject({ emailSignInLink: false, emailSignInCode: false });
      expect(loadConfig({ ...production, GATEHOUSE_EMAIL_VERIFICATION: 'off' }).config.emailVerification).toBe('off');
    });

    it('in development without SMTP accepts them all (messages go to DATA_DIR/outbox)', () => {
      const { config } = loadConfig({ GATEHOUSE_EMAIL_VERIFICATION: 'required', GATEHOUSE_EMAIL_SIGN_IN_LINK: 'true', GATEHOUSE_EMAIL_SIGN_IN_CODE: 'true' });
      expect(config).toMatchObject({ mode: 'development', emailVerification: 'required', emailSignInLink: true, emailSignInCode: true });
    });
  });

  describe('config file (GATEHOUSE_CONFIG)', () => {
    it('reads settings from a JSON file', () => {
      const path = configFile({ port: 7000, signupEnabled: false, issuer: 'https://auth.example.com' });
      const { config } = loadConfig({ GATEHOUSE_CONFIG: path });
      expect(config.port).toBe(7000);
      expect(config.signupEnabled).toBe(false);
      expect(config.issuer).toBe('https://auth.example.com');
    });

    it('lets the environment win over the file', () => {
      const path = configFile({ port: 7000, logLevel: 'debug' });
      const { config } = loadConfig({ GATEHOUSE_CONFIG: path, GATEHOUSE_PORT: '7001' });
      expect(config.port).toBe(7001);
      expect(config.logLevel).toBe('debug');
      expect(loadConfig({ GATEHOUSE_CONFIG: path, PORT: '7002' }).config.port).toBe(7002);
    });

    it('reports an unknown key', () => {
      const path = configFile({ prot: 7000 });
      expect(problemsOf({ GATEHOUSE_CONFIG: path })).toEqual([`${path}: unknown setting "prot"`]);
    });

    it('reports an unknown key together with bad values', () => {
      const path = configFile({ prot: 7000, port: 'seven' });
      const problems = problemsOf({ GATEHOUSE_CONFIG: path, GATEHOUSE_SIGNUP_ENABLED: 'perhaps' });
      expect(problems).toHaveLength(3);
      expect(problems).toContain(`${path}: unknown setting "prot"`);
      expect(problems).toContain(`${path}: port: must be a whole number from 0 to 65535 (got "seven")`);
      expect(problems).toContain('GATEHOUSE_SIGNUP_ENABLED: must be true or false (got "perhaps")');
    });

    it('reports a file that is not a JSON object, naming GATEHOUSE_CONFIG', () => {
      for (const content of ['{ not json', '[1, 2]', '"text"']) {
        const problems = problemsOf({ GATEHOUSE_CONFIG: configFile(content) });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^GATEHOUSE_CONFIG: cannot read /);
      }
    });

    it('reports a missing file', () => {
      expect(problemsOf({ GATEHOUSE_CONFIG: join(dir, 'missing.json') })[0]).toMatch(/^GATEHOUSE_CONFIG: cannot read .*missing\.json/);
    });
  });

  describe('branding', () => {
    const PROD = { GATEHOUSE_MODE: 'production', GATEHOUSE_SECRET: 'a'.repeat(43), GATEHOUSE_ISSUER: 'https://auth.example.com' };

    it('defaults to the name Gatehouse with no logo and no colour', () => {
      const { config } = loadConfig({});
      expect([config.brandName, config.brandLogoUrl, config.brandColor]).toEqual(['Gatehouse', undefined, undefined]);
    });

    it('reads a name, an https logo and a colour from the environment or a file', () => {
      const { config } = loadConfig({ GATEHOUSE_BRAND_NAME: 'Orders', GATEHOUSE_BRAND_LOGO_URL: 'https://cdn.example.com/logo.svg', GATEHOUSE_BRAND_COLOR: '#7A1FA2' });
      expect([config.brandName, config.brandLogoUrl, config.brandColor]).toEqual(['Orders', 'https://cdn.example.com/logo.svg', '#7A1FA2']);
      const file = configFile({ brandName: 'Orders', brandLogoUrl: '/brand/logo.svg', brandColor: '#0b5cad' });
      expect(loadConfig({ GATEHOUSE_CONFIG: file }).config.brandLogoUrl).toBe('/brand/logo.svg');
    });

    it('refuses a cookie name that would name another Gatehouse\'s other cookies', () => {
      for (const name of ['app-csrf', 'app-device', 'app-federation', 'app-reauth', 'app-email', 'app-mfa', 'app-webauthn']) {
        expect(problemsOf({ GATEHOUSE_COOKIE_NAME: name })).toEqual([
          `GATEHOUSE_COOKIE_NAME: must not end in -csrf, -device, -federation, -reauth, -email, -mfa or -webauthn, which name the other cookies (got ${JSON.stringify(name)})`,
        ]);
      }
      expect(loadConfig({ GATEHOUSE_COOKIE_NAME: 'orders-auth' }).config.cookieName).toBe('orders-auth');
    });

    it('accepts a colour only as #rrggbb, with a clear line', () => {
      for (const color of ['red', '#fff', '#12345', '#1234567', 'rgb(0,0,0)', '#gggggg', '#00000080', '#000000; }', ' #000000']) {
        expect(problemsOf({ GATEHOUSE_BRAND_COLOR: color })).toEqual([`GATEHOUSE_BRAND_COLOR: must be a colour written #rrggbb, such as #0b5cad (got ${JSON.stringify(color)})`]);
      }
    });

    it('refuses an empty, blank, overlong or control-character name', () => {
      for (const name of ['', '   ', 'x'.repeat(61), 'Orders\nweb']) {
        expect(problemsOf({ GATEHOUSE_BRAND_NAME: name })).toHaveLength(1);
        expect(problemsOf({ GATEHOUSE_BRAND_NAME: name })[0]).toMatch(/^GATEHOUSE_BRAND_NAME: must be 1 to 60 characters/);
      }
    });

    it('accepts an https logo or a path on this server; http only on localhost in development', () => {
      expect(loadConfig({ GATEHOUSE_BRAND_LOGO_URL: 'http://localhost:9000/logo.png' }).config.brandLogoUrl).toBe('http://localhost:9000/logo.png');
      expect(loadConfig({ ...PROD, GATEHOUSE_BRAND_LOGO_URL: 'https://cdn.example.com/logo.png' }).config.brandLogoUrl).toBe('https://cdn.example.com/logo.png');
      expect(problemsOf({ ...PROD, GATEHOUSE_BRAND_LOGO_URL: 'http://localhost:9000/logo.png' })).toEqual([
        'GATEHOUSE_BRAND_LOGO_URL: plain http is refused in production mode; use https (got "http://localhost:9000/logo.png")',
      ]);
      expect(problemsOf({ GATEHOUSE_BRAND_LOGO_URL: 'http://cdn.example.com/logo.png' })).toEqual([
        'GATEHOUSE_BRAND_LOGO_URL: plain http is only allowed for localhost in development; use https (got "http://cdn.example.com/logo.png")',
      ]);
    });

    it('refuses other schemes, scheme-relative URLs, credentials and non-URLs', () => {
      const cases: Array<[string, string]> = [
        ['javascript:alert(1)', 'must use https (got javascript:)'],
        ['data:image/svg+xml,<svg/>', 'must use https (got data:)'],
        ['//cdn.example.com/logo.png', 'must be an https URL or a path on this server such as /brand/logo.svg'],
        ['/\\cdn.example.com/logo.png', 'must be an https URL or a path on this server such as /brand/logo.svg'],
        // Browsers drop tabs and newlines from a URL: "/\t/host" is "//host" to them.
        ['/\t/cdn.example.com/logo.png', 'must be an https URL or a path on this server such as /brand/logo.svg'],
        ['/\n/cdn.example.com/logo.png', 'must be an https URL or a path on this server such as /brand/logo.svg'],
        ['/brand/my logo.svg', 'must be an https URL or a path on this server such as /brand/logo.svg'],
        ['logo.png', 'must be an https URL or a path on this server such as /brand/logo.svg'],
        ['https://user:pw@cdn.example.com/logo.png', 'must not contain credentials'],
      ];
      for (const [logo, problem] of cases) {
        expect(problemsOf({ GATEHOUSE_BRAND_LOGO_URL: logo })).toEqual([`GATEHOUSE_BRAND_LOGO_URL: ${problem} (got ${JSON.stringify(logo)})`]);
      }
    });

    it('lists every branding problem at once', () => {
      expect(problemsOf({ GATEHOUSE_BRAND_NAME: '', GATEHOUSE_BRAND_LOGO_URL: 'ftp://x/logo.png', GATEHOUSE_BRAND_COLOR: 'blue' })).toHaveLength(3);
    });
  });

  it('returns a frozen configuration', () => {
    const { config } = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(8080);
  });
});

describe('the scopes and resources offered at POST /api/token', () => {
  it('offers none by default and reads space-separated lists', () => {
    expect(loadConfig({}).config).toMatchObject({ apiTokenScopes: '', apiTokenResources: '' });
    const { config } = loadConfig({ GATEHOUSE_API_TOKEN_SCOPES: 'notes:read notes:write', GATEHOUSE_API_TOKEN_RESOURCES: 'https://api.example.com/notes' });
    expect(config).toMatchObject({ apiTokenScopes: 'notes:read notes:write', apiTokenResources: 'https://api.example.com/notes' });
  });

  it('lists every problem at start: a malformed scope list, OpenID scopes, a resource that is not an absolute URI (RFC 8707 §2)', () => {
    expect(problemsOf({ GATEHOUSE_API_TOKEN_SCOPES: 'notes:read  "x"' })).toEqual([expect.stringMatching(/^GATEHOUSE_API_TOKEN_SCOPES: must be scopes separated by single spaces/)]);
    expect(problemsOf({ GATEHOUSE_API_TOKEN_SCOPES: 'openid notes:read offline_access', GATEHOUSE_API_TOKEN_RESOURCES: 'https://api.example.com /relative https://a.example.com/#frag' })).toEqual([
      'GATEHOUSE_API_TOKEN_SCOPES: openid, offline_access cannot be offered at /api/token (OpenID scopes describe a user to a client)',
      'GATEHOUSE_API_TOKEN_RESOURCES: "/relative" must be an absolute URI without a fragment',
      'GATEHOUSE_API_TOKEN_RESOURCES: "https://a.example.com/#frag" must be an absolute URI without a fragment',
    ]);
  });
});
