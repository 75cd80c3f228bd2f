import type { Database } from '@neonpro/database';
import type { CallerDirectory } from '../caller/caller-directory.port.js';

/**
 * clinic_members, read as the verified user (from the gateway's signed grant): RLS shows them their
 * own membership row, and the agent's login can do nothing else.
 */
export class PostgresCallerDirectory implements CallerDirectory {
  constructor(private readonly db: Database) {}

  async membership(
    userId: string,
  ): Promise<{ clinic_id: string; role: 'admin' | 'professional' | 'receptionist' } | undefined> {
    const m = await this.db.withUser({ sub: userId }, (r) => r.members.findByUser(userId));
    return m ? { clinic_id: m.clinic_id, role: m.role } : undefined;
  }
}
