// The floor "a bare Fastify route": GET /api/session answers a fixed small JSON, nothing looked up.
import Fastify from 'fastify';
import { announceReady, benchPort, exitOnSignals } from '../lib/serve.js';
import { sampleSessionRecord, sessionBody } from '../lib/session-body.js';

const app = Fastify({ logger: false });
const body = sessionBody(sampleSessionRecord(0));
app.get('/api/session', async () => body);
await app.listen({ port: benchPort(), host: '127.0.0.1' });
exitOnSignals(() => app.close());
announceReady();
