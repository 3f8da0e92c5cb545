/** Every route module, in one place. Each is `(app, deps) => void`. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiDeps, AppEnv } from '../types.js';
import { registerDocsRoutes } from './docs.js';
import { registerEmissionRoutes } from './emissions.js';
import { registerFileRoutes } from './files.js';
import { registerHealthRoutes } from './health.js';
import { registerJobRoutes } from './jobs.js';
import { registerMetricsRoutes } from './metrics.js';
import { registerModelRoutes } from './models.js';
import { registerScenarioRoutes } from './scenarios.js';

export type RouteModule = (app: OpenAPIHono<AppEnv>, deps: ApiDeps) => void;

export const routeModules: RouteModule[] = [
  registerHealthRoutes,
  registerMetricsRoutes,
  registerDocsRoutes,
  registerJobRoutes,
  registerFileRoutes,
  registerModelRoutes,
  registerScenarioRoutes,
  registerEmissionRoutes,
];

export function registerRoutes(app: OpenAPIHono<AppEnv>, deps: ApiDeps): void {
  for (const register of routeModules) register(app, deps);
}
