// Verifies one access token over and over for BENCH_SECONDS and prints {"ops", "seconds", "cpuSeconds"}.
//   BENCH_VERIFY  node-crypto: node:crypto.verify of the JWS signature (Ed25519) and JSON.parse of the claims
//                 jose:        jose's jwtVerify with a KeyObject and the SDK's checks (typ, iss, aud, algorithms)
//                 sdk:         the SDK's createVerifier().verify(), keys from a JWKS this process serves
//   BENCH_TOKEN, BENCH_JWK (the public key), BENCH_ISSUER (http://127.0.0.1:BENCH_PORT), BENCH_AUDIENCE
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import { createVerifier } from '../../packages/sdk/src/index.js';
import { benchPort } from '../lib/serve.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new TypeError(`${name} must be set`);
  return value;
};
const kind = env('BENCH_VERIFY');
const token = env('BENCH_TOKEN');
const jwk = JSON.parse(env('BENCH_JWK')) as { kty: string; crv: string; x: string; kid: string };
const issuer = env('BENCH_ISSUER');
const audience = env('BENCH_AUDIENCE');
const seconds = Number(process.env.BENCH_SECONDS ?? 3);

async function makeVerify(): Promise<{ verifyOnce: () => unknown; close: () => Promise<void> }> {
  const key: KeyObject = createPublicKey({ key: jwk, format: 'jwk' });
  if (kind === 'node-crypto') {
    return {
      verifyOnce: () => {
        const [header = '', payload = '', signature = ''] = token.split('.');
        // RFC 7515 §5.2: the signature is over ASCII(BASE64URL(header) '.' BASE64URL(payload)).
        if (!verify(null, Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'))) throw new Error('signature');
        return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      },
      close: async () => {},
    };
  }
  if (kind === 'jose') {
    const options = { algorithms: ['EdDSA'], typ: 'at+jwt', issuer, audience, requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id'] };
    return { verifyOnce: () => jwtVerify(token, key, options), close: async () => {} };
  }
  if (kind === 'sdk') {
    const server = createServer((request, response) => {
      const body = request.url === '/.well-known/openid-configuration' ? { issuer, jwks_uri: `${issuer}/jwks` } : { keys: [{ ...jwk, alg: 'EdDSA', use: 'sig' }] };
      response.setHeader('content-type', 'application/json').end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(benchPort(), '127.0.0.1', resolve));
    const verifier = createVerifier({ issuer, audience, revocations: 'off' });
    return {
      verifyOnce: () => verifier.verify(token),
      close: async () => {
        await verifier.close();
        server.close();
      },
    };
  }
  throw new TypeError(`BENCH_VERIFY must be node-crypto, jose or sdk (got ${kind})`);
}

const { verifyOnce, close } = await makeVerify();

/** Runs verifications for `forSeconds`; returns how many, the wall time and this process's CPU time. */
async function loop(forSeconds: number): Promise<{ ops: number; seconds: number; cpuSeconds: number }> {
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const end = start + forSeconds * 1000;
  let ops = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) {
      const result = verifyOnce();
      if (result instanceof Promise) await result;
    }
    ops += 64;
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { ops, seconds: (performance.now() - start) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

await loop(Math.min(1, seconds / 3));
const result = await loop(seconds);
await close();
process.stdout.write(`${JSON.stringify(result)}\n`);
