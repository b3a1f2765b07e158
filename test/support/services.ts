import net from 'node:net';

/** On CI every suite must run: a missing service fails the run instead of skipping tests. */
export const onCI = process.env.CI === 'true' || process.env.CI === '1';

export const postgresUrl = process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** True when something accepts TCP connections at host:port within a second. */
export function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether a suite that needs `service` can run. Off CI a missing service skips the suite (with a
 * note); on CI it throws, so the run fails.
 */
export function requireService(service: string, available: boolean): boolean {
  if (available) return true;
  if (onCI) throw new Error(`${service} is required on CI but is not available`);
  console.warn(`skipping: ${service} is not available`);
  return false;
}

export const postgresAvailable = await (async () => {
  const url = new URL(postgresUrl);
  return isListening(url.hostname, Number(url.port || 5432));
})();

/** A port nobody holds right now, so an issuer can name it before the server listens. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
