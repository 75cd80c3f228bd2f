// What a chat benchmark needs since /v1/ai/chat requires a JWT and the agents read Postgres as
// the caller: a throwaway seeded database, the dev auth emulator, one demo user's token (HTTP)
// and the same caller's claims header (the raw NATS baseline must carry what the gateway sends).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { startAuthEmulator } from '../../tools/auth-emulator/emulator.mjs';
import { ROOT } from './procs.mjs';

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function setupAuth({ email = 'recepcao@aurora.demo', password = 'neonpro-demo' } = {}) {
  // The built database lib (npm run bench builds nothing: run `npm run build` first).
  const database = await import(pathToFileURL(join(ROOT, 'dist/libs/database/src/index.js')).href);
  const name = `neonpro_bench_${randomBytes(5).toString('hex')}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const dbUrl = url.toString();
  await database.ensureDatabase(dbUrl);
  const pool = new pg.Pool({ connectionString: dbUrl, max: 1 });
  const supabase = join(ROOT, 'supabase');
  try {
    await database.runMigrations(pool, join(supabase, 'migrations'));
    await database.runSeed(pool, join(supabase, 'seed.sql'), password);
  } finally {
    await pool.end();
  }
  const emu = await startAuthEmulator({ port: 0, databaseUrl: dbUrl });
  const r = await fetch(`${emu.url}/auth/v1/token?grant_type=password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', apikey: 'bench' },
    body: JSON.stringify({ email, password }),
  });
  if (!r.ok) throw new Error(`bench login failed: ${r.status}`);
  const token = (await r.json()).access_token;
  const raw = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  const member = (await client.query('select clinic_id, role from public.clinic_members where user_id = $1', [raw.sub]))
    .rows[0];
  await client.end();
  const claims = { sub: raw.sub, email, clinic_id: member.clinic_id, role: member.role, raw };
  return {
    serviceEnv: { DATABASE_URL: dbUrl, SUPABASE_URL: emu.url },
    headers: { authorization: `Bearer ${token}` },
    natsHeaders: { 'x-neonpro-claims': JSON.stringify(claims) },
    async close() {
      await emu.close();
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
      await admin.end();
    },
  };
}
