import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@neonpro/testing';
import { buildOpenApiDocumentOffline } from './offline-documents.js';
import { CLIENT_DOCUMENT_PATH, clientDocument } from '../../../../tools/client/client-document.mjs';

describe('@neonpro/client OpenAPI document (its types are generated from it at build time)', () => {
  it('is up to date with the gateway OpenAPI document (else run `npm run client:generate`)', async () => {
    const expected = clientDocument(await buildOpenApiDocumentOffline());
    const committed: unknown = JSON.parse(readFileSync(join(REPO_ROOT, CLIENT_DOCUMENT_PATH), 'utf8'));
    // One assertion on the whole document: a stale file fails with the diff.
    expect(committed).toEqual(expected);
  });
});
