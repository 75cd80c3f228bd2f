// Dev-only module hooks for the E2E agent harness: lets Node (with its built-in TypeScript type
// stripping) load the test-only in-memory ports straight from their .ts sources, resolving
// `./x.js` to `./x.ts` and `@neonpro/<lib>` to the built library in dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');

export async function resolve(specifier, context, next) {
  const lib = /^@neonpro\/([a-z-]+)$/.exec(specifier);
  if (lib) return next(pathToFileURL(join(root, 'dist/libs', lib[1], 'src/index.js')).href, context);
  if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(ts))) return next(ts.href, context);
  }
  return next(specifier, context);
}
