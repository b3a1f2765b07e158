import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Stands for a named argument in a query built once; replaced by the argument's value at each run. */
class Placeholder {
  constructor(readonly name: string) {}
}

/** Names an argument of a {@link PreparedQuery}: typed as the argument's value for the query builder. */
export type ArgumentOf<A> = <K extends keyof A & string>(name: K) => A[K];

/** The row type of a query builder (what Kysely's `execute` resolves to, per row). */
export type RowOf<Q> = Q extends Compilable<infer O> ? O : never;

/** A query built and compiled once, run with different arguments. */
export interface PreparedQuery<A, R> {
  /** Every row. `on` runs it in a transaction (same SQL: a transaction has its database's dialect). */
  rows(args: A, on?: Kysely<Database>): Promise<R[]>;
  first(args: A, on?: Kysely<Database>): Promise<R | undefined>;
  /** For writes: how many rows the statement inserted, updated or deleted. */
  affected(args: A, on?: Kysely<Database>): Promise<bigint>;
}

/**
 * A hot query that Kysely builds and compiles once, at its first run, instead of at every call:
 * building the operation tree and compiling it cost as much as running the statement itself for
 * a session check (issue 13). `build` gets `arg(name)` to stand for each argument and must not
 * branch on them (it never sees their values); an argument may not be a list (`in` expands lists
 * when it compiles). With the SQLite statement cache (statement-cache.ts) a run is one
 * `stmt.all(parameters)`. Name the arguments' types on `arg`:
 * `preparedQuery(db, (arg: ArgumentOf<{ id: string }>) => db.selectFrom('users').selectAll().where('id', '=', arg('id')))`.
 */
export function preparedQuery<A extends Record<string, unknown>, Q extends Compilable<unknown>>(db: Kysely<Database>, build: (arg: ArgumentOf<A>) => Q): PreparedQuery<A, RowOf<Q>> {
  let compiled: CompiledQuery | undefined;
  const bind = (args: A): CompiledQuery => {
    compiled ??= build(((name: string) => new Placeholder(name)) as ArgumentOf<A>).compile();
    const parameters = compiled.parameters.map((parameter) => {
      if (!(parameter instanceof Placeholder)) return parameter;
      const value = args[parameter.name];
      // pg sends undefined as NULL: a missing argument must not silently match or write nothing.
      if (value === undefined) throw new TypeError(`prepared query: no value for argument ${parameter.name}`);
      return value;
    });
    return { ...compiled, parameters };
  };
  const execute = (args: A, on: Kysely<Database> | undefined) => (on ?? db).executeQuery<RowOf<Q>>(bind(args));
  return {
    rows: async (args, on) => (await execute(args, on)).rows,
    first: async (args, on) => (await execute(args, on)).rows[0],
    affected: async (args, on) => (await execute(args, on)).numAffectedRows ?? 0n,
  };
}
