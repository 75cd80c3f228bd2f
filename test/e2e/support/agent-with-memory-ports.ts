// E2E harness: the BUILT ai-agent (dist) started with the test-only in-memory ports, because the
// Postgres adapters are wired in main.ts separately. Run with:
//   node --import ./register-ts-hooks.mjs agent-with-memory-ports.ts
// Erasable TypeScript only (Node type stripping).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildFixture } from '../../../services/ai-agent/test/support/clinic-fixtures.js';
import { InMemoryClinicData } from '../../../services/ai-agent/test/support/in-memory-clinic-data.js';
import { InMemoryConversations } from '../../../services/ai-agent/test/support/in-memory-conversations.js';

interface BuiltApp {
  startAgent(env: NodeJS.ProcessEnv, ports: object): Promise<{ close(): Promise<void> }>;
}

const root = join(import.meta.dirname, '..', '..', '..');
await import(pathToFileURL(join(root, 'node_modules/reflect-metadata/Reflect.js')).href);
const built = (await import(pathToFileURL(join(root, 'dist/services/ai-agent/src/app.js')).href)) as BuiltApp;
// Both replicas seed the same ids from E2E_FIXTURE so they serve one consistent clinic.
const fixture = process.env.E2E_FIXTURE
  ? (JSON.parse(process.env.E2E_FIXTURE) as ReturnType<typeof buildFixture>)
  : buildFixture();
const agent = await built.startAgent(process.env, {
  clinicData: new InMemoryClinicData([fixture.aurora, fixture.beta]),
  conversations: new InMemoryConversations(),
});
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  agent.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
