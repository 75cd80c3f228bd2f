import { Database, type JwtClaims } from '@neonpro/database';
import { createTestDatabase, must, type TestDatabase } from '@neonpro/testing';

/** A seeded test database, opened the two ways the repository tests use it. */
export interface DemoDatabase {
  tdb: TestDatabase;
  /** The application's way in: the least-privilege login, as in production. */
  db: Database;
  /** The owner, for fixtures and for looking behind RLS. */
  owner: Database;
  /** The demo members' claims by e-mail, as a verified access token carries them. */
  users: Record<string, JwtClaims>;
  /** Clinic ids by slug. */
  clinics: Record<string, string>;
  /** One demo member's claims; an unknown e-mail fails the test. */
  user(email: string): JwtClaims;
  /** One clinic's id; an unknown slug fails the test. */
  clinic(slug: string): string;
  close(): Promise<void>;
}

export async function openDemoDatabase(opts: { ownerPoolMax?: number } = {}): Promise<DemoDatabase> {
  const tdb = await createTestDatabase({ seed: true });
  const db = new Database({ url: tdb.serviceUrl, poolMax: 4 });
  const owner = new Database({ url: tdb.url, poolMax: opts.ownerPoolMax ?? 1 });
  // Test setup reads auth.users as the owner; the application never does.
  const { rows } = await owner.pool.query<{ id: string; email: string; clinic_id: string; slug: string }>(
    `select u.id, u.email, m.clinic_id, c.slug from auth.users u
       join clinic_members m on m.user_id = u.id join clinics c on c.id = m.clinic_id`,
  );
  const users: Record<string, JwtClaims> = {};
  const clinics: Record<string, string> = {};
  for (const r of rows) {
    users[r.email] = { sub: r.id, email: r.email, role: 'authenticated', aud: 'authenticated' };
    clinics[r.slug] = r.clinic_id;
  }
  return {
    tdb,
    db,
    owner,
    users,
    clinics,
    user: (email) => must(users[email], `demo user ${email}`),
    clinic: (slug) => must(clinics[slug], `demo clinic ${slug}`),
    async close() {
      await db.close();
      await owner.close();
      await tdb.drop();
    },
  };
}
