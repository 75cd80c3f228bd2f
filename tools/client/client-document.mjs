// The gateway's OpenAPI document as @neonpro/client commits it (libs/client/openapi.json). Shared by
// `npm run client:generate` and the test that the committed document is fresh.
import prettier from 'prettier';

export const CLIENT_DOCUMENT_PATH = 'libs/client/openapi.json';

/** @param {object} document the OpenAPI 3.1 document the gateway serves */
export function clientDocument(document) {
  // The servers entry depends on PUBLIC_URL; the client does not.
  const { servers: _servers, ...rest } = document;
  return rest;
}

/**
 * The committed file's text, formatted as `prettier --check` wants it.
 * @param {object} document the OpenAPI 3.1 document the gateway serves
 * @param {string} file where it is written
 */
export async function renderClientDocument(document, file) {
  const options = await prettier.resolveConfig(file);
  return prettier.format(JSON.stringify(clientDocument(document)), { ...options, filepath: file });
}
