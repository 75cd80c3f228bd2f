export interface AuthEmulatorOptions {
  port?: number;
  host?: string;
  databaseUrl?: string;
  /** Access-token lifetime in seconds (default 3600, like Supabase). */
  expiresIn?: number;
  /** Persist the ES256 signing key here so restarts keep the same kid. */
  keyFile?: string;
  publicUrl?: string;
}

export interface AuthEmulator {
  url: string;
  port: number;
  issuer: string;
  kid: string;
  close(): Promise<void>;
}

export function startAuthEmulator(opts?: AuthEmulatorOptions): Promise<AuthEmulator>;
