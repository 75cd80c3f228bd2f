#!/usr/bin/env node
// `npm run client:generate`: rewrites libs/client/openapi.json from the OpenAPI document the gateway
// serves (built offline by the same code; run `npm run build` first), then the client's types from it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocumentOffline } from '../../dist/services/gateway/src/docs/offline-documents.js';
import { generateClientTypes } from '../../libs/client/scripts/generate-types.mjs';
import { CLIENT_DOCUMENT_PATH, renderClientDocument } from './client-document.mjs';

const file = join(import.meta.dirname, '../..', CLIENT_DOCUMENT_PATH);
writeFileSync(file, await renderClientDocument(await buildOpenApiDocumentOffline(), file));
await generateClientTypes();
console.log(`updated ${file} and the client's types`);
process.exit(0);
