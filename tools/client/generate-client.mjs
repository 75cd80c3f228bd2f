#!/usr/bin/env node
// `npm run client:generate`: regenerates libs/client/src/generated/openapi.ts from the OpenAPI
// document the gateway serves (built offline by the same code; run `npm run build` first).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocumentOffline } from '../../dist/services/gateway/src/docs/offline-documents.js';
import { CLIENT_TYPES_PATH, renderClientTypes } from './render-client-types.mjs';

const file = join(import.meta.dirname, '../..', CLIENT_TYPES_PATH);
writeFileSync(file, await renderClientTypes(await buildOpenApiDocumentOffline()));
console.log(`updated ${file}`);
process.exit(0);
