// The enrolment link `sealbox users add` prints points where serve's web app is: --http as serve
// takes it, SEALBOX_HTTP, the config's http.listen, the default; none when the web app is off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { openArchive } from '../src/archive.ts';
import { loadConfig } from '../src/core/config.ts';
import { sealbox, tempDataDir } from './support/sealbox.ts';

test('users add: the enrolment link follows --http', { timeout: 120_000 }, async () => {
  const data = tempDataDir();
  // An archive as serve makes it, made here in process.
  (await openArchive(loadConfig(undefined, { data }, {}), 'server')).close();
  const add = async (name: string, args: string[], env: Record<string, string> = {}) => {
    const r = await sealbox(['users', 'add', '--data', data, '--name', name, '--role', 'owner', ...args], { env });
    assert.equal(r.code, 0, r.stderr.toString());
    return r.stdout.toString();
  };
  const link = (out: string) => /enrol at (\S+)/.exec(out)?.[1] ?? null;
  // The code rides in the fragment or, as before, the query: which is the web app's business.
  const sep = (out: string) => /\/enrol([#?])/.exec(out)![1];

  const given = await add('ann', ['--http', '10.20.30.40:9443']);
  const code = /enrolment code (\S+)/.exec(given)![1];
  assert.equal(link(given), `http://10.20.30.40:9443/enrol${sep(given)}name=ann&code=${code}`);
  assert.match(link(await add('bob', []))!, /^http:\/\/127\.0\.0\.1:8025\/enrol[#?]name=bob&code=/, 'the default, as serve listens');
  assert.match(link(await add('cid', [], { SEALBOX_HTTP: 'archive.corp.test:8080' }))!, /^http:\/\/archive\.corp\.test:8080\/enrol[#?]name=cid&/);
  assert.match(link(await add('dag', ['--http', '0.0.0.0:8025']))!, new RegExp(`^http://${hostname().replace(/\./g, '\\.')}:8025/enrol[#?]name=dag&`), 'a wildcard address names the machine');
  const off = await add('eve', ['--http', 'off']);
  assert.equal(link(off), null);
  assert.match(off, /the web app is off \(http\): enrol with sealbox users enrol, or POST \/api\/v1\/enrol/);
});
