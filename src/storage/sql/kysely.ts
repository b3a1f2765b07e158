import { createRequire } from 'node:module';
import type * as KyselyModule from 'kysely';

/**
 * Kysely's values (the query builder, the dialects, the migrator, `sql`) from its CommonJS build.
 * Node 20 loads the ES module build, some 260 files, at about twice the CPU time and memory of the
 * CommonJS one, and every start pays it (cold start, issue 13). Same package, same version, same
 * code; types still come from `kysely` itself.
 */
const kysely = createRequire(import.meta.url)('kysely') as typeof KyselyModule;

export const { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } = kysely;
export type Kysely<DB> = KyselyModule.Kysely<DB>;
