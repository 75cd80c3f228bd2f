import { startAuthEmulator } from './auth-emulator.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const DEMO_PASSWORD = 'neonpro-demo';
export const DEMO_USERS = {
  auroraAdmin: 'admin@aurora.demo',
  auroraReception: 'recepcao@aurora.demo',
  auroraLima: 'dra.lima@aurora.demo',
  borealAdmin: 'admin@boreal.demo',
} as const;

/**
 * A seeded test database plus a Supabase Auth emulator on a free port: what a test needs to call
 * authenticated routes. Tokens come straight from the emulator, so the gateway's failed-login
 * limiter is never involved.
 */
export interface AuthFixture {
  db: TestDatabase;
  supabaseUrl: string;
  /** The `iss` of the emulator's tokens (for tests that sign their own). */
  issuer: string;
  /** Env for a gateway or agent using this fixture: the least-privilege login, never the owner. */
  env: { DATABASE_URL: string; SUPABASE_URL: string };
  token(email: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

export interface AuthFixtureOptions {
  /** Access-token lifetime in seconds (default 3600); short values test expiry while connected. */
  expiresIn?: number;
}

export async function createAuthFixture(opts: AuthFixtureOptions = {}): Promise<AuthFixture> {
  const db = await createTestDatabase({ seed: true });
  const emu = await startAuthEmulator({ port: 0, databaseUrl: db.url, expiresIn: opts.expiresIn });
  return {
    db,
    supabaseUrl: emu.url,
    issuer: emu.issuer,
    env: { DATABASE_URL: db.serviceUrl, SUPABASE_URL: emu.url },
    async token(email: string, password = DEMO_PASSWORD): Promise<string> {
      const r = await fetch(`${emu.url}/auth/v1/token?grant_type=password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', apikey: 'test' },
        body: JSON.stringify({ email, password }),
      });
      if (!r.ok) {
        throw new Error(`emulator login for ${email} failed: ${r.status}`);
      }
      return ((await r.json()) as { access_token: string }).access_token;
    },
    async close(): Promise<void> {
      await emu.close();
      await db.drop();
    },
  };
}
