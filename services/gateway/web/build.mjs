#!/usr/bin/env node
// Bundles the demo chat page's script (web/app.js + @neonpro/client + socket.io-client) into
// public/app.js with esbuild. Part of `npm run build`; the demo-page test runs it too, so the page
// it drives is always built from the current sources. The output is git-ignored.
import { build } from 'esbuild';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const here = import.meta.dirname;

export async function buildDemoPage() {
  await build({
    entryPoints: [join(here, 'app.js')],
    outfile: join(here, '../public/app.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: 'linked',
    // Resolves @neonpro/client through the repository's tsconfig paths.
    tsconfig: join(here, '../../../tsconfig.json'),
    logLevel: 'warning',
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildDemoPage();
}
