/**
 * A resource server that trusts Gatehouse access tokens, using nothing of Gatehouse but its SDK,
 * `@gatehouse-auth/sdk` (README.md says how to run it, in this repository or on its own).
 *
 * Environment: GATEHOUSE_ISSUER (default http://localhost:8080), API_AUDIENCE (default: the issuer,
 * which is the audience of tokens from POST /api/token), PORT (default 3000), REVOCATIONS
 * ('off' | 'poll' | 'subscribe', default 'off').
 */
import express from 'express';
import { createVerifier, type RevocationMode } from '@gatehouse-auth/sdk';
import { gatehouseExpress, requireScope } from '@gatehouse-auth/sdk/express';

const issuer = process.env.GATEHOUSE_ISSUER ?? 'http://localhost:8080';
const verifier = createVerifier({
  issuer,
  audience: process.env.API_AUDIENCE ?? issuer,
  revocations: (process.env.REVOCATIONS ?? 'off') as RevocationMode,
});

const app = express();
app.disable('x-powered-by');

// Every route under /api needs a valid access token: `Authorization: Bearer <token>`.
app.use('/api', gatehouseExpress(verifier));

// Any valid token: who is calling, through which client, with which scopes.
app.get('/api/me', (req, res) => {
  const { subject, clientId, scopes } = req.auth!;
  res.json({ subject, clientId, scopes });
});

// Needs the `notes:read` scope as well: 403 insufficient_scope otherwise.
app.get('/api/notes', requireScope('notes:read'), (req, res) => {
  res.json({ owner: req.auth!.subject, notes: [] });
});

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(`resource server on http://127.0.0.1:${port} trusting ${issuer}\n`);
});

// Stop cleanly: finish requests, then stop the verifier's background work (feed polling or stream).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => void verifier.close());
  });
}
