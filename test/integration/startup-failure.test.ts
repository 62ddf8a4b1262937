/**
 * createScaler stops what it started when start-up fails half-way: here the HTTP port is taken,
 * which fails after the gRPC server is already bound.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/config/settings.js';
import { createScaler } from '../../src/main.js';
import { silentLogger } from '../../src/observability/logger.js';
import { freePort } from '../helpers/ports.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(port: number): Promise<Server> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

describe('start-up that fails half-way', () => {
  it('frees the gRPC port when the HTTP port is taken, and rejects with the cause', async () => {
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    await listen(httpPort);
    const settings = defaultSettings({
      WVA_BIND_ADDRESS: '127.0.0.1',
      WVA_GRPC_PORT: String(grpcPort),
      WVA_HTTP_PORT: String(httpPort),
      WVA_KUBERNETES: 'off',
      WVA_SCRAPE_TARGETS: 'http://127.0.0.1:9/metrics',
    });
    await expect(createScaler(settings, { logger: silentLogger(), defaultMetrics: false })).rejects.toThrow(
      /EADDRINUSE/,
    );
    // Bindable again: nothing of the failed start-up still holds it.
    await expect(listen(grpcPort)).resolves.toBeDefined();
  });
});
