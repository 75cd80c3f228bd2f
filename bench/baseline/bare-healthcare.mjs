// Baseline for scenario 1: a bare Fastify + pg handler running the same SQL as the gateway's
// GET /v1/patients/:id (the same built libs/database withUserStatement + repository: claims, RLS, audit),
// without Nest, JWT verification or the rate limiter. The claims are fixed at start.
import Fastify from 'fastify';
import { Database } from '../../dist/libs/database/src/index.js';

const { DATABASE_URL, PORT, CLAIMS } = process.env;
const claims = JSON.parse(CLAIMS);
const db = new Database({ url: DATABASE_URL, poolMax: 10 });
const app = Fastify();
let n = 0;
app.get('/patients/:id', (req) =>
  db.withUserStatement(claims, (r) => r.patients.get(req.params.id), { requestId: `bare-${++n}` }),
);
app.get('/health/ready', async () => ({ ok: true }));
await app.listen({ port: Number(PORT), host: '127.0.0.1' });
process.once(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => db.close?.())
      .then(() => process.exit(0)),
);
