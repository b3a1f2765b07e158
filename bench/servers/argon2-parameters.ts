import type { Algorithm } from '@node-rs/argon2';
import { configSchema } from '../../src/config/schema.js';

/** Gatehouse's default argon2id parameters, read from the configuration schema (OWASP: m=19456 KiB, t=2, p=1). */
export const gatehouseArgon2 = {
  // Algorithm.Argon2id: the package declares a const enum, which isolated modules cannot read.
  algorithm: 2 as Algorithm,
  memoryCost: configSchema.properties.argon2MemoryCost.default,
  timeCost: configSchema.properties.argon2TimeCost.default,
  parallelism: configSchema.properties.argon2Parallelism.default,
};
