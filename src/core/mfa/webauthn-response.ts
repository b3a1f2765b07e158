import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { AuthError } from '../errors.js';
import { safeEqual } from '../secrets.js';

/**
 * The browser's WebAuthn responses, as untrusted JSON: each is rebuilt from checked fields only
 * (strings, base64url, bounded sizes) before @simplewebauthn/server sees it, so nothing odd reaches
 * the library and every refusal is `invalid_passkey`.
 */

/** §5.4.3: a user handle is at most 64 bytes. */
export const MAX_USER_HANDLE_BYTES = 64;
/** §6.5.1: a credential id is at most 1023 bytes, so 1364 base64url characters. */
const MAX_CREDENTIAL_ID_CHARS = 1364;
const MAX_CLIENT_DATA_CHARS = 16_384;
const MAX_ATTESTATION_CHARS = 65_536;
const MAX_AUTHENTICATOR_DATA_CHARS = 16_384;
const MAX_SIGNATURE_CHARS = 8_192;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const TRANSPORT = /^[a-z0-9-]{1,32}$/;

function invalidPasskey(detail: string): AuthError {
  return new AuthError('invalid_passkey', { detail });
}

/**
 * §7.1 / §7.2: C.type must be the ceremony's and C.challenge the one issued (compared in constant
 * time). Checked here so a refusal never quotes a challenge; the library checks origin and the rest.
 */
export function checkClientData(encoded: string, type: 'webauthn.create' | 'webauthn.get', challenge: string): void {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw invalidPasskey('clientDataJSON is not JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalidPasskey('clientDataJSON is not an object');
  const client = data as Record<string, unknown>;
  if (client.type !== type) throw invalidPasskey(`clientDataJSON.type is not ${type}`);
  if (typeof client.challenge !== 'string' || !safeEqual(client.challenge, challenge)) throw invalidPasskey('the challenge is not the ceremony’s');
  if (typeof client.origin !== 'string') throw invalidPasskey('clientDataJSON has no origin');
}

/** A RegistrationResponseJSON (§5.1 `toJSON()`) from untrusted JSON, keeping only what is verified. */
export function parseRegistrationResponse(value: unknown): RegistrationResponseJSON {
  const { id, inner } = parseCredential(value);
  const transports = Array.isArray(inner.transports)
    ? [...new Set(inner.transports.filter((t): t is string => typeof t === 'string' && TRANSPORT.test(t)))].slice(0, 10)
    : [];
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: base64urlField(inner, 'clientDataJSON', MAX_CLIENT_DATA_CHARS),
      attestationObject: base64urlField(inner, 'attestationObject', MAX_ATTESTATION_CHARS),
      transports,
    },
    clientExtensionResults: {},
  };
}

/** An AuthenticationResponseJSON (§5.1 `toJSON()`) from untrusted JSON, keeping only what is verified. */
export function parseAuthenticationResponse(value: unknown): AuthenticationResponseJSON {
  const { id, inner } = parseCredential(value);
  let userHandle: string | undefined;
  // A missing user handle is absent, null or empty depending on the client.
  if (inner.userHandle !== undefined && inner.userHandle !== null && inner.userHandle !== '') {
    userHandle = base64urlField(inner, 'userHandle', Math.ceil((MAX_USER_HANDLE_BYTES * 4) / 3));
  }
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: base64urlField(inner, 'clientDataJSON', MAX_CLIENT_DATA_CHARS),
      authenticatorData: base64urlField(inner, 'authenticatorData', MAX_AUTHENTICATOR_DATA_CHARS),
      signature: base64urlField(inner, 'signature', MAX_SIGNATURE_CHARS),
      ...(userHandle === undefined ? {} : { userHandle }),
    },
    clientExtensionResults: {},
  };
}

function parseCredential(value: unknown): { id: string; inner: Record<string, unknown> } {
  if (!isRecord(value)) throw invalidPasskey('the credential is not an object');
  const id = base64urlField(value, 'id', MAX_CREDENTIAL_ID_CHARS);
  const rawId = base64urlField(value, 'rawId', MAX_CREDENTIAL_ID_CHARS);
  if (rawId !== id) throw invalidPasskey('id and rawId differ');
  if (value.type !== 'public-key') throw invalidPasskey('type is not public-key');
  if (value.clientExtensionResults !== undefined && !isRecord(value.clientExtensionResults)) throw invalidPasskey('clientExtensionResults is not an object');
  if (!isRecord(value.response)) throw invalidPasskey('response is not an object');
  return { id, inner: value.response };
}

function base64urlField(record: Record<string, unknown>, key: string, maxLength: number): string {
  const value = record[key];
  if (typeof value !== 'string') throw invalidPasskey(`${key} is not a string`);
  if (value.length > maxLength) throw invalidPasskey(`${key} is longer than ${maxLength} characters`);
  if (!BASE64URL.test(value)) throw invalidPasskey(`${key} is not base64url`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
