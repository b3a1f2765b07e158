import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import type prettyModule from 'pino-pretty';
import type { GatehouseConfig } from './config/schema.js';
import { AccountService } from './core/accounts/account-service.js';
import { Authenticator } from './core/accounts/authenticator.js';
import { SignIn } from './core/accounts/sign-in.js';
import { systemClock, type Clock } from './core/clock.js';
import { requireOnFirstUse } from './core/load-on-first-use.js';
import { KeyService } from './core/keys/key-service.js';
import { createMasterKeyRing, type MasterKeyRing } from './core/keys/sealed-box.js';
import { resolveMasterKeys } from './config/master-key-file.js';
export { ensureDataDir, resolveMasterKeys } from './config/master-key-file.js';
import { ClientService } from './core/oauth/client-service.js';
import { createArgon2Hasher } from './core/passwords/argon2-hasher.js';
import type { PasswordHasher } from './core/passwords/password-hasher.js';
import { SessionService } from './core/sessions/session-service.js';
import { RevocationService } from './core/revocation/revocation-service.js';
import { DeviceTokens } from './core/throttle/device-tokens.js';
import { LoginThrottle } from './core/throttle/login-throttle.js';
import { AccessTokenIssuer } from './core/tokens/access-token-issuer.js';
import { RefreshTokenService } from './core/tokens/refresh-token-service.js';
import { AuthorizationCodeService } from './core/oauth/authorization-code-service.js';
import { AuthorizationService } from './core/oauth/authorization-service.js';
import { ClientAuthenticator } from './core/oauth/client-authenticator.js';
import { ConsentService } from './core/oauth/consent-service.js';
import { OAUTH_PATHS, providerMetadata } from './core/oauth/discovery.js';
import { IdTokenIssuer } from './core/oauth/id-token-issuer.js';
import { ScopeCatalog } from './core/oauth/scopes.js';
import { FederationService, REAUTH_MAX_AGE_SECONDS } from './core/federation/federation-service.js';
import { ReauthMarks } from './core/accounts/reauth-marks.js';
import { createAppleClientSecret, resolveProviders } from './core/federation/presets.js';
export { ProviderConfigError } from './core/federation/presets.js';
export { MailConfigError } from './mail/open-mail.js';
import { UpstreamClient } from './core/federation/upstream-client.js';
import type { OAuthClient, SigningAlgorithm, User } from './core/ports.js';
import { LocalTokenVerifier } from './core/tokens/local-token-verifier.js';
import { buildApp } from './http/app.js';
import type { MailTransport } from './core/mail-ports.js';
import { composeEmail, type GatehouseMail } from './composition/compose-email.js';
import { composeMfa } from './composition/compose-mfa.js';
import { PENDING_LINKS } from './core/accounts/email-tokens.js';
export type { GatehouseMail } from './composition/compose-email.js';
import type { AppServices, OAuthServices } from './http/context.js';
import { openSqlStorage, type SqlStorage } from './storage/sql/sql-storage.js';

/**
 * The composition root: configuration -> storage -> core services -> HTTP app. The CLI and the
 * tests build Gatehouse through here, so they run exactly what production runs.
 */
export interface GatehouseOptions {
  config: GatehouseConfig;
  clock?: Clock;
  /** Defaults to argon2id with the configured parameters. */
  hasher?: PasswordHasher;
  logger?: FastifyBaseLogger;
  /** Skip building the HTTP app and loading signing keys (CLI commands that only touch accounts). */
  withoutHttp?: boolean;
  /** Apply the configuration's declared clients (default: when the HTTP app is built, i.e. `start`). */
  applyDeclaredClients?: boolean;
  /** Told about files Gatehouse creates (the development master key). */
  onNotice?: (message: string) => void;
  /** Replaces the transport the configuration names (tests capture messages with it). */
  mailTransport?: MailTransport;
}

export interface Gatehouse {
  config: GatehouseConfig;
  storage: SqlStorage;
  services: AppServices & { throttle: LoginThrottle; refreshTokens: RefreshTokenService; mail: GatehouseMail };
  /** Opens the signing keys (done when the HTTP app is built). @throws MasterKeyError with the wrong master key. */
  loadKeys(): Promise<void>;
  /** Undefined when built `withoutHttp`. */
  app: FastifyInstance | undefined;
  /** Deletes expired sessions and stale throttle entries now; returns how many rows went. */
  cleanup(): Promise<number>;
  /** Runs {@link cleanup} on the configured interval until {@link close}. */
  startBackgroundJobs(): void;
  close(): Promise<void>;
}

export async function createGatehouse(options: GatehouseOptions): Promise<Gatehouse> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  // Checked before anything opens: a wrong provider entry stops the start with every problem named.
  const providers = resolveProviders(config.providers, { loopbackHttp: config.mode === 'development' });
  const storage = openSqlStorage(config.databaseUrl, {
    queryTimeoutMs: config.databaseQueryTimeout * 1000,
    poolSize: config.databasePoolSize,
    poolTimeoutMs: config.databasePoolTimeout * 1000,
    // The driver's message and code only: never the connection string.
    onConnectionError: (error) => options.logger?.warn({ code: (error as { code?: unknown }).code, reason: error.message }, 'database connection lost'),
    onCheckpointError: (error) => options.logger?.warn({ code: (error as { code?: unknown }).code, reason: error.message }, 'database checkpoint failed'),
  });
  try {
    await storage.migrate();
  } catch (error) {
    await storage.close().catch(() => {});
    throw error;
  }
  const hasher =
    options.hasher ??
    createArgon2Hasher({ memoryCost: config.argon2MemoryCost, timeCost: config.argon2TimeCost, parallelism: config.argon2Parallelism });
  const revocations = new RevocationService(storage.revocations, clock);
  const scopes = new ScopeCatalog(config.resources, config.scopeDescriptions);
  // OpenID Connect requires RS256 for ID tokens (OIDC Core §15.1); a client may register the main algorithm instead.
  const idTokenAlgorithms: SigningAlgorithm[] = config.signingAlgorithm === 'RS256' ? ['RS256'] : ['RS256', config.signingAlgorithm];
  // Deleting a client revokes its tokens.
  const clients = new ClientService(storage.clients, clock, { knownScopes: scopes.known, idTokenAlgorithms }, async (clientId) => void (await revocations.revoke({ clientId })));
  // Every command checks the declared list; only `start` and `migrate` apply it, so a CLI command run
  // without the deployment's configuration cannot delete the clients it declares.
  try {
    await clients.applyDeclared(config.clients, { validateOnly: !(options.applyDeclaredClients ?? !options.withoutHttp) });
  } catch (error) {
    await storage.close().catch(() => {});
    throw error;
  }
  // Revoking a session revokes the access tokens minted from it (their `sid`).
  const sessions = new SessionService(
    storage.sessions,
    clock,
    {
      idleTimeoutMs: config.sessionIdleTimeout * 1000,
      absoluteLifetimeMs: config.sessionAbsoluteLifetime * 1000,
      touchIntervalMs: config.sessionTouchInterval * 1000,
      revokedRetentionMs: 24 * 3600 * 1000,
    },
    {
      sessionRevoked: async (sessionId) => void (await revocations.revoke({ sessionId })),
      userSessionsRevoked: async (subject, exceptSessionId) => void (await revocations.revoke({ subject, sessionsOnly: true, exceptSessionId })),
    },
  );
  const throttle = new LoginThrottle(storage.throttle, clock, {
    accountMaxAttempts: config.loginAccountMaxAttempts,
    ipMaxAttempts: config.loginIpMaxAttempts,
    lockoutBaseMs: config.loginLockout * 1000,
    lockoutMaxMs: config.loginLockoutMax * 1000,
    windowMs: config.loginAttemptWindow * 1000,
  });
  let deviceKeys: Buffer[] | undefined;
  const devices = new DeviceTokens(clock, {
    // Derived from the master keys once they are loaded (a CLI command that never signs in never needs them).
    keys: () => (deviceKeys ??= lazyRing.deriveKeys('device cookie v1')),
    lifetimeMs: config.loginDeviceTrustLifetime * 1000,
  });
  let reauthKeys: Buffer[] | undefined;
  const reauth = new ReauthMarks(clock, {
    keys: () => (reauthKeys ??= lazyRing.deriveKeys('reauth mark v1')),
    lifetimeMs: REAUTH_MAX_AGE_SECONDS * 1000,
  });
  // Every session, refresh family and access token of the user: what an account taken back ends.
  // Codes not redeemed yet and pending emailed links end too (a code or a change of address someone
  // else asked for must not outlive it); undo links stay, the owner's way back.
  const signOutEverywhere = async (userId: string): Promise<void> => {
    await sessions.revokeAll(userId);
    await refreshTokens.revokeAllOf(userId);
    await revocations.revoke({ subject: userId });
    await storage.authorizationCodes.deleteUnredeemedOf(userId);
    await mail.tokens.endAll(userId, PENDING_LINKS);
  };
  const { mail, notices, verification, emailChange, emailSignIn, passwordReset } = composeEmail(config, {
    storage,
    clock,
    hasher,
    throttle,
    signOutEverywhere,
    // multiFactor is built below (it needs the notices built here); this runs only at a request.
    forgetUnprovenFactors: async (userId) => void (await multiFactor.forget(userId, { reason: 'first-proof-of-mailbox' })),
    deriveKeys: (purpose) => lazyRing.deriveKeys(purpose),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.mailTransport ? { transport: options.mailTransport } : {}),
  });
  const accounts = new AccountService(
    {
      users: storage.users,
      sessions,
      hasher,
      throttle,
      devices,
      reauth,
      clock,
      onUserDisabled: async (subject) => void (await revocations.revoke({ subject })),
      onUserDeleted: () => revocations.sync(),
      isEmailReserved: (emailKey) => mail.tokens.isReserved(emailKey),
      audit: storage.audit,
      notices,
    },
    { signupEnabled: config.signupEnabled, passwordPolicy: { minLength: config.passwordMinLength, maxLength: config.passwordMaxLength } },
  );
  const authenticator = new Authenticator({ users: storage.users, hasher, throttle, devices, clock, requireVerifiedEmail: verification.required });
  // Resolved when the keys are loaded: commands that never open signing keys (user create, migrate)
  // neither need the master key nor create the development key file.
  let ring: MasterKeyRing | undefined;
  const masterKeys = (): MasterKeyRing => {
    if (!ring) throw new TypeError('loadKeys() must run before the signing keys are used');
    return ring;
  };
  const lazyRing: MasterKeyRing = {
    get currentId() {
      return masterKeys().currentId;
    },
    seal: (plaintext, context) => masterKeys().seal(plaintext, context),
    open: (sealed, context) => masterKeys().open(sealed, context),
    deriveKeys: (purpose) => masterKeys().deriveKeys(purpose),
  };
  const { multiFactor, passkeys } = composeMfa(config, { storage, clock, throttle, ring: lazyRing, notices });
  const signIn = new SignIn({ sessions, notices, multiFactor });
  const keys = new KeyService(storage.signingKeys, lazyRing, clock, {
    algorithm: config.signingAlgorithm,
    additionalAlgorithms: idTokenAlgorithms,
    rotationIntervalMs: config.keyRotationInterval * 1000,
    // Twice the JWKS cache age, plus the one-minute schedule tick at which other nodes load the new key.
    publishLeadMs: (2 * config.jwksCacheMaxAge + 60) * 1000,
    // The longest-lived token a key signs (a client's access-token override is at most a day), plus
    // five minutes for verifiers' clock skew.
    retentionMs: (Math.max(config.accessTokenLifetime, config.idTokenLifetime, 24 * 3600) + 300) * 1000,
  });
  const accessTokens = new AccessTokenIssuer(keys, clock, { issuer: config.issuer, lifetimeMs: config.accessTokenLifetime * 1000, claims: config.accessTokenClaims }, (token) =>
    revocations.recordIssued(token),
  );
  const refreshTokens = new RefreshTokenService(
    storage.refreshTokens,
    storage.audit,
    clock,
    {
      idleLifetimeMs: config.refreshTokenIdleLifetime * 1000,
      absoluteLifetimeMs: config.refreshTokenAbsoluteLifetime * 1000,
      revokedRetentionMs: 30 * 24 * 3600 * 1000,
    },
    async (familyId) => void (await revocations.revoke({ familyId })),
  );
  const verifier = new LocalTokenVerifier(keys, clock, { issuer: config.issuer, isRevoked: (jti) => revocations.isRevoked(jti) });
  const codes = new AuthorizationCodeService(storage.authorizationCodes, clock, { lifetimeMs: config.authorizationCodeLifetime * 1000 });
  const consents = new ConsentService(storage.consents, clock, (userId, clientId) => refreshTokens.revokeGrantsOf(userId, clientId));
  const findClient = (id: string): Promise<OAuthClient | undefined> => clients.find(id);
  const findUser = (id: string): Promise<User | undefined> => storage.users.findById(id);
  const oauth: OAuthServices = {
    authorization: new AuthorizationService({
      findClient,
      scopes,
      requirePkceForConfidential: !config.dangerouslyAllowConfidentialClientsWithoutPkce,
      codes,
      consents,
      clock,
      issuer: config.issuer,
      canReach: (user, acr) => multiFactor.canReach(user, acr),
    }),
    clientAuth: new ClientAuthenticator({ findClient, replays: storage.replays, clock }, { issuer: config.issuer }),
    grants: {
      clock,
      scopes,
      codes,
      refreshTokens,
      accessTokens,
      idTokens: new IdTokenIssuer(keys, clock, { issuer: config.issuer, lifetimeMs: config.idTokenLifetime * 1000 }),
      revocations,
      findUser,
      isSessionLive: (sessionId) => sessions.isLive(sessionId),
      defaultAudience: `${config.issuer}${OAUTH_PATHS.userinfo}`,
    },
    verifier,
    consents,
    refreshTokens,
    findUser,
    metadata: {
      ...providerMetadata({ issuer: config.issuer, scopes, idTokenAlgorithms }),
      gatehouse_revocation_feed: `${config.issuer}/revocations`,
    },
  };
  const federation = new FederationService(
    {
      providers,
      upstream: new UpstreamClient(async (provider) => {
        const auth = provider.clientAuth;
        if (auth.method === 'apple_client_secret_jwt') return createAppleClientSecret(auth, provider.clientId, clock.now());
        return auth.method === 'none' ? undefined : auth.secret;
      }),
      states: storage.federationStates,
      identities: storage.identities,
      users: storage.users,
      accounts,
      reauth,
      clock,
    },
    { issuer: config.issuer, stateLifetimeMs: 10 * 60 * 1000 },
  );
  const services = {
    accounts,
    authenticator,
    signIn,
    emailSignIn,
    sessions,
    throttle,
    keys,
    accessTokens,
    refreshTokens,
    revocations,
    clients,
    oauth,
    federation,
    verification,
    passwordReset,
    mail,
    emailChange,
    multiFactor,
    passkeys,
    checkReadiness: () => storage.ping(),
  };

  let keysLoaded: Promise<void> | undefined;
  const loadKeys = (): Promise<void> =>
    (keysLoaded ??= (async () => {
      // A development key file may be generated only while no sealed key exists: never silently replace one.
      const mayGenerate = (await storage.signingKeys.list()).length === 0;
      ring ??= createMasterKeyRing(resolveMasterKeys(config, options.onNotice, { mayGenerate }));
      await keys.load();
    })());
  let app: FastifyInstance | undefined;
  if (!options.withoutHttp) {
    try {
      await loadKeys();
      await revocations.sync();
    } catch (error) {
      await storage.close().catch(() => {});
      throw error;
    }
    void authenticator.warmUp();
    app = await buildApp({ config, services, logger: options.logger });
  }

  let timer: NodeJS.Timeout | undefined;
  let ticks = 0;
  const cleanup = async (): Promise<number> =>
    (await sessions.cleanup()) +
    (await throttle.cleanup()) +
    (await revocations.cleanup()) +
    (await refreshTokens.cleanup()) +
    (await codes.cleanup()) +
    (await federation.cleanup()) +
    (await mail.outbox.cleanup()) +
    (await mail.tokens.cleanup()) +
    (await multiFactor.apps.cleanup()) +
    (await storage.replays.deleteExpired(clock.now()));
  return {
    config,
    storage,
    services,
    app,
    loadKeys,
    cleanup,
    startBackgroundJobs() {
      // Revocations written by other nodes reach this node's denylist and feed within the sync interval.
      void revocations.start(config.revocationSyncInterval, (error) => options.logger?.warn({ err: error }, 'revocation sync failed'));
      // Retries, and messages a request stored while the worker was busy or another node stored.
      mail.outbox.start(5_000);
      // Every minute: the key schedule (and keys other nodes rolled in); cleanup on its own interval.
      const cleanupEvery = Math.max(1, Math.round(config.sessionCleanupInterval / 60));
      timer ??= setInterval(() => {
        keys.tick().catch((error: unknown) => options.logger?.warn({ err: error }, 'signing key schedule failed'));
        if (++ticks % cleanupEvery === 0) {
          cleanup().catch((error: unknown) => options.logger?.warn({ err: error }, 'background cleanup failed'));
        }
      }, 60_000);
      timer.unref();
    },
    async close() {
      if (timer) clearInterval(timer);
      revocations.stop();
      await app?.close();
      await mail.deferred.settle();
      await mail.outbox.stop();
      await storage.close();
    },
  };
}

/** pino-pretty, for development's human-readable lines: a production start does not load it. */
const pretty = requireOnFirstUse<typeof prettyModule>('pino-pretty', import.meta.url);

/**
 * Human-readable lines in development, JSON lines in production, written to `destination`
 * (standard output when omitted).
 */
export function createLogger(config: Pick<GatehouseConfig, 'mode' | 'logLevel'>, destination?: NodeJS.WritableStream): FastifyBaseLogger {
  const options = {
    level: config.logLevel,
    redact: { paths: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'], censor: '[redacted]' },
  };
  if (config.mode === 'production') return destination ? pino(options, destination) : pino(options);
  return pino(options, pretty()({ ignore: 'pid,hostname,reqId', translateTime: 'HH:MM:ss', singleLine: true, ...(destination ? { destination } : { sync: true }) }));
}
