import type { Registry } from 'prom-client';
import type { ApiConfig } from '../config.js';
import type { ApiServices } from '../wiring.js';

/** What route plugins get: services (available once the API started) and the config. */
export interface RouteDeps {
  services: () => ApiServices;
  config: ApiConfig;
  /** The API's Prometheus registry, for routes that count something of their own. */
  registry?: Registry;
}
