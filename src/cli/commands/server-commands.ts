import { existsSync } from 'node:fs';
import { createLogger, ensureDataDir, type Gatehouse } from '../../main.js';
import { CliError, config, describeDatabase, loadedConfig, open, parse, print, type Command } from '../cli-support.js';
import { listen } from '../listen.js';
import { LogDestination } from '../log-destination.js';
import { stopOnSignals } from '../shutdown.js';
import { webAuthnRelyingParty } from '../../config/webauthn-relying-party.js';
import type { GatehouseConfig } from '../../config/schema.js';

/** The start line about second factors and passkeys: what is offered, and why passkeys are not when they cannot be. */
function describeFactors(cfg: GatehouseConfig): string {
  const mfa = { off: 'no second factors (GATEHOUSE_MFA=off)', optional: 'second factors optional', required: 'a second factor required of every account' }[cfg.mfa];
  if (!cfg.passkeys) return `${mfa}; passkeys off (GATEHOUSE_PASSKEYS=false)`;
  const party = webAuthnRelyingParty(cfg);
  if ('problems' in party) return `${mfa}; passkeys off: browsers offer them only on a domain name over https (or localhost), and the issuer ${cfg.issuer} is not one`;
  return `${mfa}; passkeys for ${party.rpId} (${party.origins.join(', ')})`;
}

export const serverCommands: Record<string, Command> = {
  start: {
    summary: 'start the server',
    usage: 'Usage: gatehouse start\n  Starts the server (settings from GATEHOUSE_* environment variables; see README).',
    async run(argv) {
      parse(argv, {}, this.usage);
      const { config: cfg, warnings } = loadedConfig();
      const logs = new LogDestination();
      const logger = createLogger(cfg, logs);
      let gatehouse: Gatehouse;
      try {
        for (const warning of warnings) logger.warn(warning);
        const embedded = !cfg.databaseUrl.includes('://');
        if (embedded) {
          const fresh = !existsSync(cfg.dataDir);
          ensureDataDir(cfg.dataDir);
          if (fresh) logger.info(`created data folder ${cfg.dataDir} (mode 0700)`);
        }
        gatehouse = await open(cfg, { withoutHttp: false, logger });
        const opened = gatehouse;
        // From here on a signal stops cleanly, even one that arrives while the listener starts.
        stopOnSignals({ close: () => opened.close(), logger, logs, timeoutMs: cfg.shutdownTimeout * 1000 });
        logger.info(`database: ${embedded ? `SQLite ${cfg.databaseUrl}` : describeDatabase(cfg.databaseUrl)}`);
        const mail = gatehouse.services.mail;
        if (mail.mode === 'smtp') logger.info(`email: ${mail.outbox.description}, from ${mail.from}`);
        else if (mail.mode === 'outbox') logger.info(`email: no GATEHOUSE_SMTP_URL, so messages go to ${cfg.dataDir}/outbox as .eml files (the log prints each link)`);
        else logger.warn('email is off: production mode without GATEHOUSE_SMTP_URL sends nothing, so there is no password reset, address verification or sign-in by email');
        logger.info(`sign-in: ${describeFactors(cfg)}`);
        try {
          await listen(gatehouse.app!, { port: cfg.port, host: cfg.host, logger });
        } catch (error) {
          await gatehouse.close();
          const code = (error as { code?: string }).code;
          throw new CliError(code === 'EADDRINUSE' ? `port ${cfg.port} is in use; set PORT to another port` : `cannot listen: ${(error as Error).message}`);
        }
      } catch (error) {
        // The lines logged so far reach the output before the process exits with the error.
        await logs.close(1000);
        throw error;
      }
      gatehouse.startBackgroundJobs();
      logger.info(`Gatehouse is running at ${cfg.issuer}`);
      logger.info(`  sign in:   ${cfg.issuer}/login`);
      logger.info(`  sign up:   ${cfg.issuer}/signup${cfg.signupEnabled ? '' : ' (closed: npx gatehouse user create --email …)'}`);
      logger.info(`  account:   ${cfg.issuer}/account`);
      logger.info(`  health:    ${cfg.issuer}/healthz, ${cfg.issuer}/readyz`);
      logger.info(`  OpenID:    ${cfg.issuer}/.well-known/openid-configuration`);
      logger.info(`next: let an application sign users in: npx gatehouse client create --name "My app" --redirect-uri http://localhost:3000/callback`);
      logger.info('press Ctrl-C to stop');
    },
  },

  migrate: {
    summary: 'bring the database schema up to date',
    usage:
      'Usage: gatehouse migrate [--json]\n  Brings the database schema up to date and applies the declared clients of the configuration (both also done at every start).',
    async run(argv) {
      const values = parse(argv, { json: { type: 'boolean' } }, this.usage);
      const cfg = config();
      const gatehouse = await open(cfg, { withoutHttp: true, applyDeclaredClients: true });
      // createGatehouse migrates; a second run reports that nothing is left to apply.
      const { applied } = await gatehouse.storage.migrate();
      await gatehouse.close();
      print(values.json, { database: describeDatabase(cfg.databaseUrl), applied }, `database ${describeDatabase(cfg.databaseUrl)} is up to date`);
    },
  },
};
