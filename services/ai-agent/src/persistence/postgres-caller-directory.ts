import type { Database } from '@neonpro/database';
import type { CallerDirectory } from '../caller/caller-directory.port.js';

/** clinic_members, read on the service path (the caller is not known to Postgres yet). */
export class PostgresCallerDirectory implements CallerDirectory {
  constructor(private readonly db: Database) {}

  async membership(
    userId: string,
  ): Promise<{ clinic_id: string; role: 'admin' | 'professional' | 'receptionist' } | undefined> {
    const m = await this.db.withService((r) => r.members.findByUser(userId));
    return m ? { clinic_id: m.clinic_id, role: m.role } : undefined;
  }
}
