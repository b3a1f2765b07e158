import type { Server } from 'node:http';
import type { Express } from 'express';
import { freePort } from './services.js';

/** An application under test: an Express app listening on 127.0.0.1, its base URL, and a close. */
export interface RunningApp {
  base: string;
  close(): Promise<void>;
}

/** The port an application will listen on, known before it is built (its callback URL needs it). */
export async function appAddress(): Promise<{ port: number; base: string }> {
  const port = await freePort();
  return { port, base: `http://127.0.0.1:${port}` };
}

/** Listens on 127.0.0.1:`port`. */
export async function listenApp(app: Express, port: number): Promise<RunningApp> {
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
