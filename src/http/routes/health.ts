import { Type } from '../../config/typebox.js';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.js';

const Status = Type.Object({ status: Type.String() });

/** GET /healthz (the process answers) and GET /readyz (and its database answers). */
export function registerHealth(app: FastifyInstance, ctx: HttpContext): void {
  app.get('/healthz', { schema: { response: { 200: Status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: Status } } }, async () => {
    await ctx.services.checkReadiness();
    return { status: 'ready' };
  });
}
