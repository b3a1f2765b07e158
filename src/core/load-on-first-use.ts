import { createRequire } from 'node:module';

/**
 * A package a start does not need is loaded where it is first used, not when Gatehouse starts
 * (cold start and idle memory, issue 13): nodemailer on the development outbox or with email off,
 * openid-client with no upstream provider, the schema compilers until a route first runs, and so on.
 * The package is loaded once; every later call gets the same module.
 *
 * A failed load is not remembered (the next use tries again) and says which package and why:
 * `cannot load nodemailer (loaded at first use): Cannot find package 'nodemailer' …`.
 */
export function loadOnFirstUse<T>(name: string, load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw loadError(name, error);
    }));
}

/**
 * The same for a CommonJS package needed synchronously (a compiler Fastify calls, a logger built in
 * a constructor): `require`d from `parentUrl` (the caller's `import.meta.url`) at the first call.
 */
export function requireOnFirstUse<T>(name: string, parentUrl: string): () => T {
  let loaded: { module: T } | undefined;
  return () => {
    if (!loaded) {
      try {
        loaded = { module: createRequire(parentUrl)(name) as T };
      } catch (error) {
        throw loadError(name, error);
      }
    }
    return loaded.module;
  };
}

function loadError(name: string, error: unknown): Error {
  return new Error(`cannot load ${name} (loaded at first use): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
