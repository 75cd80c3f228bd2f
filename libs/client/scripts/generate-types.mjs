#!/usr/bin/env node
// Generates src/generated/openapi.ts (git-ignored) from the committed openapi.json with
// openapi-typescript. The root `lint`, `typecheck` and `build` scripts and this package's `build`
// run it first, so tsc always sees the types of the committed document; `npm run client:generate`
// refreshes openapi.json itself from the gateway.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const root = join(import.meta.dirname, '..');
export const OPENAPI_DOCUMENT = join(root, 'openapi.json');
export const GENERATED_TYPES = join(root, 'src/generated/openapi.ts');

const HEADER =
  '// Generated from libs/client/openapi.json (openapi-typescript) by libs/client/scripts/generate-types.mjs.\n' +
  '// Do not edit, and do not commit: change the controllers or their zod schemas and run `npm run client:generate`.\n\n';

/** @param {object} document the OpenAPI 3.1 document */
export async function renderClientTypes(document) {
  return HEADER + astToString(await openapiTS(document));
}

export async function generateClientTypes() {
  const document = JSON.parse(readFileSync(OPENAPI_DOCUMENT, 'utf8'));
  mkdirSync(join(root, 'src/generated'), { recursive: true });
  writeFileSync(GENERATED_TYPES, await renderClientTypes(document));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await generateClientTypes();
}
