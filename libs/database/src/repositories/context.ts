import type { ClinicRole } from '@neonpro/contracts';
import type { Queryable } from '../queryable.js';

/** Per-transaction helpers shared by the repositories. */
export class TxContext {
  private role?: Promise<ClinicRole | null>;

  constructor(readonly db: Queryable) {}

  async rows<T>(sql: string, values: unknown[] = []): Promise<T[]> {
    return (await this.db.query(sql, values)).rows as T[];
  }

  async one<T>(sql: string, values: unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(sql, values))[0];
  }

  /** The caller's role in their clinic, read from clinic_members (null on the service path). */
  memberRole(): Promise<ClinicRole | null> {
    this.role ??= this.one<{ role: ClinicRole | null }>('select app.current_member_role() as role').then(
      (r) => r?.role ?? null,
    );
    return this.role;
  }
}

export function clampLimit(limit: number | undefined, def = 20, max = 100): number {
  if (!limit || !Number.isFinite(limit)) {
    return def;
  }
  return Math.max(1, Math.min(max, Math.floor(limit)));
}

export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
