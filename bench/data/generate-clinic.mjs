#!/usr/bin/env node
// Builds a synthetic clinic at scale in an already migrated database (generate-clinic.sql does
// the work inside Postgres), then ANALYZEs so the planner sees the real row counts.
//   DATABASE_URL=postgres://… node bench/data/generate-clinic.mjs --slug grande --patients 100000 --appointments 1000000
// The clinic's admin signs in as admin@<slug>.bench with the demo password.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const SQL = readFileSync(join(import.meta.dirname, 'generate-clinic.sql'), 'utf8');

/** Returns the seconds taken. Idempotent for the same slug and counts. */
export async function generateClinic(databaseUrl, { slug, patients, appointments, professionals }) {
  const pros = professionals ?? Math.max(3, Math.ceil(patients / 2000));
  if (!/^[a-z0-9-]+$/.test(slug)) {
    throw new Error('slug: lowercase letters, digits and dashes');
  }
  if (appointments / pros / 20 < 1) {
    throw new Error('too few appointments for a whole day per professional');
  }
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  const t0 = performance.now();
  try {
    await c.query(
      `select set_config('bench.slug', $1, false), set_config('bench.patients', $2, false),
              set_config('bench.appointments', $3, false), set_config('bench.professionals', $4, false),
              set_config('bench.password', $5, false)`,
      [slug, String(patients), String(appointments), String(pros), process.env.DEMO_PASSWORD || 'neonpro-demo'],
    );
    await c.query(SQL);
    await c.query('analyze public.patients; analyze public.appointments; analyze public.professionals');
  } finally {
    await c.end();
  }
  return (performance.now() - t0) / 1000;
}

if (import.meta.main ?? process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({
    options: {
      slug: { type: 'string', default: 'grande' },
      patients: { type: 'string', default: '100000' },
      appointments: { type: 'string', default: '1000000' },
      professionals: { type: 'string' },
    },
  });
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error('DATABASE_URL is required');
  }
  const s = await generateClinic(url, {
    slug: values.slug,
    patients: Number(values.patients),
    appointments: Number(values.appointments),
    professionals: values.professionals ? Number(values.professionals) : undefined,
  });
  console.log(
    `clinic ${values.slug}: ${values.patients} patients, ${values.appointments} appointments in ${s.toFixed(1)}s`,
  );
}
