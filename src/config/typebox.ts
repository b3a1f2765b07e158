import { createRequire } from 'node:module';
import type * as TypeBox from '@sinclair/typebox';
import type * as TypeBoxValue from '@sinclair/typebox/value';

/**
 * TypeBox's `Type` (the schemas of the configuration and of every route) and `Value` (the
 * configuration's checks) from its CommonJS build: Node 20 loads the ES module build, some 250
 * files, with more memory, and every start pays it (cold start, issue 13). Same package and code;
 * its kinds are global symbols, so schemas built either way are the same. Types come from
 * `@sinclair/typebox` itself.
 */
const require = createRequire(import.meta.url);
export const { Type } = require('@sinclair/typebox') as typeof TypeBox;
export const { Value } = require('@sinclair/typebox/value') as typeof TypeBoxValue;
