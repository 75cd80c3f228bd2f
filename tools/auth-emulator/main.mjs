#!/usr/bin/env node
// Runs the dev auth emulator: SUPABASE_URL (default http://127.0.0.1:54321), DATABASE_URL.
import { startAuthEmulator } from './emulator.mjs';

const target = new URL(process.env.SUPABASE_URL ?? 'http://127.0.0.1:54321');
const emulator = await startAuthEmulator({
  host: target.hostname,
  port: Number(target.port || 54321),
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/neonpro',
  keyFile: process.env.AUTH_EMULATOR_KEY_FILE ?? '.cache/auth-emulator/es256.jwk.json',
  publicUrl: target.origin,
});
console.log(`auth emulator listening on ${emulator.url} (kid ${emulator.kid})`);
const stop = () => void emulator.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
