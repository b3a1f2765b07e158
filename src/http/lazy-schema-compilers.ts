import { createRequire } from 'node:module';
import type { ValidatorFactory } from '@fastify/ajv-compiler';
import type { SerializerFactory } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';
import { requireOnFirstUse } from '../core/load-on-first-use.js';

type ValidatorSelector = () => ValidatorFactory;
type SerializerSelector = () => SerializerFactory;
type Validate = ((data: unknown) => unknown) & { errors?: unknown };

// Fastify's own compilers, resolved from Fastify (whose dependencies they are), loaded at first use.
const fastifyFile = createRequire(import.meta.url).resolve('fastify');
const ajvCompiler = requireOnFirstUse<ValidatorSelector>('@fastify/ajv-compiler', fastifyFile);
const serializerCompiler = requireOnFirstUse<{ SerializerSelector: SerializerSelector }>('@fastify/fast-json-stringify-compiler', fastifyFile);

/**
 * Fastify's ajv and fast-json-stringify compilers, each route's schema compiled the first time the
 * route validates a request or serialises a reply instead of every route's at start, and the
 * compilers themselves (ajv, fast-json-stringify) loaded then (cold start and idle memory, issue
 * 13). The same compilers with the same options: what a route accepts and answers does not change.
 *
 * Fastify treats a compiler given here as a custom one, which it hands header schemas without first
 * lowercasing their property names; no route validates headers, and one that tries is refused at
 * start rather than silently never matching.
 */
export function lazySchemaCompilers(): NonNullable<FastifyServerOptions['schemaController']> {
  // One pool of ajv instances (and of serializers) for the app and its plugins, as Fastify keeps.
  let validators: ValidatorFactory | undefined;
  let serializers: SerializerFactory | undefined;
  const buildValidator = ((externalSchemas, ajvOptions) => {
    let compiler: ReturnType<ValidatorFactory> | undefined;
    return (route) => {
      if (route.httpPart === 'headers') throw new TypeError(`${route.method} ${route.url}: a headers schema is not supported (Fastify would not lowercase its names); check the header in the handler`);
      let compiled: Validate | undefined;
      const validate: Validate = (data) => {
        compiled ??= (compiler ??= (validators ??= ajvCompiler()())(externalSchemas, ajvOptions))(route) as Validate;
        const result = compiled(data);
        // Fastify reads a failed validation's errors from the function it was given.
        validate.errors = compiled.errors;
        return result;
      };
      return validate;
    };
  }) as ValidatorFactory;
  const buildSerializer = ((externalSchemas, serializerOptions) => {
    let compiler: ReturnType<SerializerFactory> | undefined;
    return (route) => {
      let compiled: ((data: unknown) => string) | undefined;
      return (data: unknown) => (compiled ??= (compiler ??= (serializers ??= serializerCompiler().SerializerSelector())(externalSchemas, serializerOptions))(route))(data);
    };
  }) as SerializerFactory;
  return { compilersFactory: { buildValidator, buildSerializer } };
}
