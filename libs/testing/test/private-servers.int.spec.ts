import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { type PrivateServer, startPrivatePostgres, must } from '@neonpro/testing';

/** Processes whose command line names this port (postgres and its children, under runuser or not). */
function processesOn(port: number): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.split('\n').filter((l) => l.includes(`-p ${port} `) && !l.includes('ps -eo'));
}

async function query(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await c.connect();
  try {
    return must((await c.query<{ one: number }>('select 1 as one')).rows[0], 'a row').one;
  } finally {
    await c.end();
  }
}

describe('private Postgres', () => {
  let server: PrivateServer;

  afterAll(async () => {
    await server?.dispose();
  });

  it('stop() ends the postgres processes (not only runuser) even with clients connected; start() brings it back', async () => {
    server = await startPrivatePostgres();
    expect(await query(server.url)).toBe(1);
    expect(processesOn(server.port).length).toBeGreaterThan(0);

    // A pool's idle connection is the usual case: a smart shutdown would wait for it forever.
    const held = new pg.Client({ connectionString: server.url });
    held.on('error', () => undefined);
    await held.connect();
    await server.stop();
    expect(processesOn(server.port)).toEqual([]);
    await expect(query(server.url)).rejects.toThrow();

    await server.start();
    expect(await query(server.url)).toBe(1);
    await server.dispose();
    expect(processesOn(server.port)).toEqual([]);
  });
});
