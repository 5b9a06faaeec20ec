import type { FastifyInstance } from 'fastify';
import type { PlatformInfo } from '@domaeka/broker/contracts';
import type { RouteDeps } from './deps.js';

/**
 * What a signed-in shop owner needs to point a phone's bridge script at
 * this platform: the bridge's host (null: the address the browser uses) and
 * port (as configured, else as the live gateways report it; null while none
 * is up).
 */
export async function platformRoutes(app: FastifyInstance, { services, config }: RouteDeps): Promise<void> {
  app.get('/platform', async (): Promise<PlatformInfo> => ({
    bridge: { host: config.bridgePublicHost, port: config.bridgePublicPort ?? services().ops.gateways.bridgePort() },
  }));
}
