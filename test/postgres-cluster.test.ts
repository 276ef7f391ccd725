// The private PostgreSQL cluster the PostgreSQL backend's tests run against
// (test/support/postgres.ts): started from Debian's binaries in a few seconds, on loopback only,
// answering over TCP with a password and not without one, and gone by its PID when stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { startPostgres } from './support/postgres.ts';

test('a private cluster starts within seconds, serves a database of its own, and is stopped by its PID', async () => {
  const started = Date.now();
  const cluster = await startPostgres();
  const startMs = Date.now() - started;
  try {
    assert.ok(startMs < 30_000, `started in ${startMs} ms`);
    assert.equal(cluster.host, '127.0.0.1');
    const url = await cluster.database('conformance_one');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string; major: string; pid: number }>("SELECT current_database() AS db, current_setting('server_version_num') AS major, pg_backend_pid() AS pid");
      assert.equal(rows[0]!.db, 'conformance_one');
      assert.ok(Number(rows[0]!.major) >= 150000, `PostgreSQL ${rows[0]!.major}`);
      await client.query('CREATE TABLE t (v bytea)');
      await client.query('INSERT INTO t VALUES ($1)', [Buffer.from([0, 1, 255])]);
      assert.deepEqual((await client.query('SELECT v FROM t')).rows[0].v, Buffer.from([0, 1, 255]));
    } finally {
      await client.end();
    }
    // A wrong password is refused: TCP is not trusted.
    const wrong = new pg.Client({ connectionString: cluster.url('conformance_one').replace(/:[^:@]*@/, ':wrong@') });
    await assert.rejects(wrong.connect(), /password authentication failed/);
    await wrong.end().catch(() => {});
  } finally {
    await cluster.stop();
  }
  assert.throws(() => process.kill(cluster.pid, 0), /ESRCH/, 'the postmaster is gone');
  assert.equal(existsSync(cluster.dir), false, 'its folder is removed');
  const client = new pg.Client({ connectionString: cluster.url(), connectionTimeoutMillis: 5_000 });
  await assert.rejects(client.connect(), 'nothing listens on its port any more');
});
