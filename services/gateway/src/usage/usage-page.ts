import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** uPlot's browser build, straight from node_modules (a dependency): no CDN and no copy to keep in sync. */
export const UPLOT_DIST = dirname(createRequire(import.meta.url).resolve('uplot'));

/** Serves the charting library of the usage page (public/usage.html) at /vendor/uplot/. */
export function serveUsagePageAssets(app: NestFastifyApplication): void {
  // A second @fastify/static instance must not decorate the reply again.
  app.useStaticAssets({
    root: UPLOT_DIST,
    prefix: '/vendor/uplot/',
    decorateReply: false,
    wildcard: false,
    index: false,
  });
}
