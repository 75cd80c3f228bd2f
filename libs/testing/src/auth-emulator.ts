// The dev-only Supabase Auth emulator lives in tools/ (never in images); tests reach it here.
export { type AuthEmulator, startAuthEmulator } from '../../../tools/auth-emulator/emulator.mjs';
