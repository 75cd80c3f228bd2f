// Refuses to run a tool on a Node older than package.json's `engines`. The bench and the test
// runner start the services with their own `process.execPath`, so a tool started on the system's
// older Node (20 on the CI machines) would run the whole stack, and measure, another runtime:
// on Node 20 LangChain's message objects cost about 20 times what they cost on 24.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

export function assertProjectNode(tool) {
  const range = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node ?? '';
  const least = Number(/^>=\s*(\d+)/.exec(range)?.[1] ?? 0);
  const major = Number(process.versions.node.split('.')[0]);
  if (major < least) {
    console.error(
      `${tool}: Node ${process.version} is older than package.json's engines (${range}). ` +
        "Run it through npm (npm run bench, npm test) or put `bash tools/with-node.sh`'s Node first on PATH.",
    );
    process.exit(1);
  }
}
