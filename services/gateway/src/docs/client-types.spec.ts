import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@neonpro/testing';
import { buildOpenApiDocumentOffline } from './offline-documents.js';
import { CLIENT_TYPES_PATH, renderClientTypes } from '../../../../tools/client/render-client-types.mjs';

describe('@neonpro/client generated types', () => {
  it('are up to date with the gateway OpenAPI document (else run `npm run client:generate`)', async () => {
    const expected = await renderClientTypes(await buildOpenApiDocumentOffline());
    const committed = readFileSync(join(REPO_ROOT, CLIENT_TYPES_PATH), 'utf8');
    // One assertion on the whole text: a stale file fails with the diff.
    expect(committed).toBe(expected);
  });
});
