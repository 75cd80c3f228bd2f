import type { ClinicRole } from '@neonpro/contracts';
import type { Queryable } from '../queryable.js';

/** A named SQL text (see `TxContext.prepared`). Names are unique across the repositories. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

const MEMBER_ROLE: Statement = { name: 'member_role', text: 'select app.current_member_role() as role' };

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

  /**
   * A hot query as a named prepared statement: Postgres parses and plans it once per pooled
   * connection instead of on every call. Only for fixed-shape queries whose best plan does not
   * depend on the values (a generic plan must be as good as a custom one); searches with
   * optional filters stay unnamed. `stmt` names one SQL text; both live in a `Statement` constant.
   */
  async prepared<T>(stmt: Statement, values: unknown[] = []): Promise<T[]> {
    return (await this.db.query({ name: stmt.name, text: stmt.text, values })).rows as T[];
  }

  async preparedOne<T>(stmt: Statement, values: unknown[] = []): Promise<T | undefined> {
    return (await this.prepared<T>(stmt, values))[0];
  }

  /** The caller's role in their clinic, read from clinic_members (null on the service path). */
  memberRole(): Promise<ClinicRole | null> {
    this.role ??= this.preparedOne<{ role: ClinicRole | null }>(MEMBER_ROLE).then((r) => r?.role ?? null);
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
