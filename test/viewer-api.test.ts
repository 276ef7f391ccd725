// The API behind the web app's Investigation and Ledger pages: a message's evidence (captures,
// ledger leaves, inclusion proofs, the signed checkpoint), the viewer's sanitised body document,
// remote content recorded before it may load, the ledger filtered and exported, and the
// checkpoint history. Each call: allowed for the right people, refused for the others, and
// what it did in the ledger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startInProcessWorld } from './support/in-process.ts';
import { CHARSET_TEXT, charsetMail, cidImageMail, hostileHtmlMail } from './support/viewer-mail.ts';
import { leafHash, verifyInclusion } from '../src/ledger/merkle-tree.ts';
import { parseCheckpoint } from '../src/ledger/checkpoint.ts';

test('viewer API: evidence, body document, remote content, ledger filters and export, checkpoint history', { timeout: 60_000 }, async () => {
  const world = await startInProcessWorld({
    messages: {
      plain: { from: 'carol@partner.test', to: 'olga@corp.test', subject: 'Invoice for March', date: 'Tue, 05 Mar 2024 10:00:00 +0000' },
      other: { from: 'carol@partner.test', to: 'piet@corp.test', subject: 'Piet private', date: 'Tue, 05 Mar 2024 11:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga', 'piet@corp.test': 'piet' },
    users: { olga: ['owner'], piet: ['owner'], rita: ['requester'], alex: ['approver'], aud: ['auditor'] },
  });
  const { as } = world;
  try {
    // The viewer's mail, committed as the SMTP receiver commits any other.
    const mails = { hostile: hostileHtmlMail('http://127.0.0.1:9'), cid: cidImageMail(), charset: charsetMail() };
    const sha: Record<string, string> = { ...world.sha };
    for (const [key, m] of Object.entries(mails)) {
      sha[key] = createHash('sha256').update(m.raw).digest('hex');
      assert.equal((await world.deliver({ from: m.from, to: [m.to, 'hidden-bcc@corp.test'] }, m.raw)).result.sha256, sha[key]);
    }
    await world.takeAll();

    // --- evidence -------------------------------------------------------------------------
    // Signed as serve signs when one is due (here: now), it covers the hostile mail's capture.
    let r = await as.olga.call('GET', `/api/v1/messages/${sha.hostile}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const captureIndex = r.body.captures[0].ledgerIndex as number;
    await world.parts.checkpoint();
    const cp = await world.client().call('GET', '/api/v1/ledger/checkpoint');
    assert.equal(cp.status, 200);
    assert.ok(parseCheckpoint(cp.body.toString('utf8')).size > captureIndex, 'a signed checkpoint covers the capture');
    r = await as.olga.call('GET', `/api/v1/messages/${sha.hostile}/evidence`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const ev = r.body;
    assert.equal(ev.sha256, sha.hostile);
    assert.equal(ev.size, mails.hostile.raw.length);
    assert.equal(ev.checkpoint.signatureValid, true);
    assert.match(ev.verifierKey, /\+[0-9a-f]{8}\+/);
    const signed = parseCheckpoint(ev.checkpoint.note);
    assert.equal(Buffer.from(signed.rootHash).toString('base64'), ev.checkpoint.rootHash);
    assert.equal(ev.captures.length, 1);
    for (const c of ev.captures) {
      const leaf = Buffer.from(c.leaf, 'base64');
      const entry = JSON.parse(leaf.toString('utf8'));
      assert.equal(entry.type, 'capture');
      assert.deepEqual(entry.messages, [sha.hostile], 'the leaf names the message');
      assert.equal(entry.index, c.ledgerIndex);
      assert.equal(leafHash(leaf).toString('base64'), c.leafHash);
      assert.ok(verifyInclusion(c.ledgerIndex, signed.size, leafHash(leaf), c.proof.map((p: string) => Buffer.from(p, 'base64')), signed.rootHash), 'the inclusion proof verifies');
      // A tampered proof does not.
      const bad = c.proof.map((p: string) => Buffer.from(p, 'base64'));
      if (bad.length) bad[0][0] ^= 1;
      assert.equal(verifyInclusion(c.ledgerIndex, signed.size, leafHash(leaf), bad, signed.rootHash), bad.length === 0);
    }
    let mine = await world.take('olga');
    assert.deepEqual(mine.map((e) => [e.operation, e.result, e.objects.messages]), [['view', 'success', [sha.hostile]], ['evidence', 'success', [sha.hostile]]]);
    assert.deepEqual(mine[1].objects.mailboxes, ['olga@corp.test']);

    // Refused: a requester without a grant, an owner of another mailbox; both recorded.
    r = await as.rita.call('GET', `/api/v1/messages/${sha.hostile}/evidence`);
    assert.equal(r.status, 403);
    r = await as.piet.call('GET', `/api/v1/messages/${sha.hostile}/evidence`);
    assert.equal(r.status, 404, 'out of scope looks like missing');
    const refused = await world.takeAll();   // take(name) would drop everyone else's entries
    assert.deepEqual(refused.filter((e) => e.actor === 'user:rita').map((e) => [e.operation, e.result]), [['evidence', 'denied']]);
    assert.deepEqual(refused.filter((e) => e.actor === 'user:piet').map((e) => [e.operation, e.result]), [['evidence', 'denied']]);

    // Under a grant: allowed, recorded with the grant.
    r = await as.rita.call('POST', '/api/v1/requests', { purpose: 'security-incident', justification: 'phishing report SEC-9', ticket: 'SEC-9', mailboxes: ['olga@corp.test'], permissions: ['search', 'read'], durationHours: 1 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const grant = r.body.id as string;
    assert.equal((await as.alex.call('POST', `/api/v1/requests/${grant}/approve`, { reason: 'ok' })).status, 200);
    r = await as.rita.call('GET', `/api/v1/requests/${grant}`);
    assert.equal(r.body.state, 'active');
    const endsAt = Date.parse(r.body.endsAt);
    assert.ok(endsAt > world.clock.now() + 55 * 60_000 && endsAt <= world.clock.now() + 60 * 60_000, 'the client can count down to the grant\'s end');
    r = await as.rita.call('GET', `/api/v1/messages/${sha.hostile}/evidence?grant=${grant}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await as.rita.call('GET', `/api/v1/messages/${sha.other}/evidence?grant=${grant}`);
    assert.equal(r.status, 404);
    assert.deepEqual((await world.take('rita')).filter((e) => e.type === 'access').map((e) => [e.operation, e.result, e.grantId]),
      [['evidence', 'success', grant], ['evidence', 'denied', grant]]);

    // --- body document ------------------------------------------------------------------------
    r = await as.olga.call('GET', `/api/v1/messages/${sha.hostile}/body`);
    assert.equal(r.status, 200);
    const csp = r.headers.get('content-security-policy')!;
    for (const d of ['sandbox', "default-src 'none'", "script-src 'none'", 'img-src data:;', "frame-ancestors 'self'", "form-action 'none'"]) assert.ok(csp.includes(d), `CSP has ${d}: ${csp}`);
    assert.ok(!/https?:/.test(csp), 'nothing remote by default');
    assert.equal(r.headers.get('x-frame-options'), 'SAMEORIGIN');
    const html = r.body.toString('utf8');
    assert.match(html, /Quarterly figures/);
    assert.match(html, /End of hostile message/);
    for (const bad of [/<script/i, /onerror/i, /onload/i, /javascript:/i, /<form/i, /<iframe/i, /<object/i, /<embed/i, /http-equiv="refresh"/i, /<link/i, /<base/i]) assert.doesNotMatch(html, bad);
    assert.ok(Number(r.headers.get('x-sealbox-remote-references')) >= 5);

    r = await as.olga.call('GET', `/api/v1/messages/${sha.cid}/body`);
    assert.match(r.body.toString('utf8'), /<img id="logo" src="data:image\/png;base64,iVBOR/);
    r = await as.olga.call('GET', `/api/v1/messages/${sha.charset}/body`);
    const text = r.body.toString('utf8');
    assert.ok(text.includes(CHARSET_TEXT.cyrillic) && text.includes(CHARSET_TEXT.latin1), text);
    assert.match(text, /<pre class="sealbox-text">/);
    mine = await world.take('olga');
    assert.deepEqual(mine.map((e) => [e.operation, e.result, e.objects.messages[0], e.parameters.kind]),
      [['body', 'success', sha.hostile, 'html'], ['body', 'success', sha.cid, 'html'], ['body', 'success', sha.charset, 'text']]);

    // --- remote content: recorded first, then (and only then) the document may load it -----
    r = await as.olga.call('GET', `/api/v1/messages/${sha.hostile}/body?remote=${captureIndex}`);
    assert.equal(r.status, 403, 'a ledger index that is not a recorded remote-content read');
    r = await as.olga.call('POST', `/api/v1/messages/${sha.hostile}/remote-content`, {}, { csrf: false });
    assert.equal(r.status, 403, 'CSRF');
    r = await as.piet.call('POST', `/api/v1/messages/${sha.hostile}/remote-content`, {});
    assert.equal(r.status, 404);
    r = await as.olga.call('POST', `/api/v1/messages/${sha.hostile}/remote-content`, {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const remoteIndex = r.body.ledgerIndex as number;
    mine = await world.take('olga');
    assert.deepEqual(mine.map((e) => [e.operation, e.result]), [['body', 'denied'], ['session.csrf', 'denied'], ['remote-content', 'success']]);
    assert.equal(mine.at(-1)!.index, remoteIndex, 'the answer names the entry');
    assert.deepEqual(mine.at(-1)!.objects.messages, [sha.hostile]);
    r = await as.olga.call('GET', `/api/v1/messages/${sha.hostile}/body?remote=${remoteIndex}`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-security-policy')!, /img-src data: http: https:/);
    assert.match(r.headers.get('content-security-policy')!, /script-src 'none'/);
    assert.doesNotMatch(r.body.toString('utf8'), /<script/i);
    // Someone else's entry, or the same entry for another message, opens nothing.
    r = await as.rita.call('GET', `/api/v1/messages/${sha.hostile}/body?grant=${grant}&remote=${remoteIndex}`);
    assert.equal(r.status, 403);
    r = await as.olga.call('GET', `/api/v1/messages/${sha.cid}/body?remote=${remoteIndex}`);
    assert.equal(r.status, 403);
    const opened = await world.takeAll();
    assert.deepEqual(opened.filter((e) => e.actor === 'user:olga').map((e) => [e.operation, e.result, e.objects.messages[0], e.parameters.remoteContent ?? null]),
      [['body', 'success', sha.hostile, remoteIndex], ['body', 'denied', sha.cid, null]]);
    assert.deepEqual(opened.filter((e) => e.actor === 'user:rita').map((e) => [e.operation, e.result, e.grantId]), [['body', 'denied', grant]]);
    // Under a grant: the grant's own recorded read.
    r = await as.rita.call('POST', `/api/v1/messages/${sha.hostile}/remote-content`, { grant });
    assert.equal(r.status, 200);
    r = await as.rita.call('GET', `/api/v1/messages/${sha.hostile}/body?grant=${grant}&remote=${r.body.ledgerIndex}`);
    assert.equal(r.status, 200);
    assert.deepEqual((await world.take('rita')).filter((e) => e.type === 'access').map((e) => [e.operation, e.result, e.grantId]),
      [['remote-content', 'success', grant], ['body', 'success', grant]]);

    // --- the ledger, filtered and exported (auditors) --------------------------------------
    r = await as.aud.call('GET', '/api/v1/ledger/entries?actor=olga&operation=body&limit=1000');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.entries.length, 6);
    assert.ok(r.body.entries.every((e: any) => e.actor === 'user:olga' && e.operation === 'body'));
    r = await as.aud.call('GET', `/api/v1/ledger/entries?grant=${grant}&limit=1000`);
    assert.ok(r.body.entries.length >= 6 && r.body.entries.every((e: any) => e.grantId === grant));
    r = await as.aud.call('GET', '/api/v1/ledger/entries?mailbox=piet@corp.test&result=denied&limit=1000');
    assert.ok(r.body.entries.length >= 1 && r.body.entries.every((e: any) => e.objects.mailboxes.includes('piet@corp.test') && e.result === 'denied'));
    r = await as.aud.call('GET', '/api/v1/ledger/entries?type=capture&order=desc&limit=2');
    assert.deepEqual(r.body.entries.map((e: any) => e.type), ['capture', 'capture']);
    assert.ok(r.body.entries[0].index > r.body.entries[1].index);
    const since = new Date(world.clock.now() - 60_000).toISOString();
    r = await as.aud.call('GET', `/api/v1/ledger/entries?since=${since}&until=${new Date(world.clock.now() + 60_000).toISOString()}&actor=rita`);
    assert.ok(r.body.entries.length >= 6);
    r = await as.aud.call('GET', '/api/v1/ledger/entries?since=yesterday');
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'SEALBOX_ERR_BAD_INPUT');

    r = await as.aud.call('GET', '/api/v1/ledger/export?format=csv&actor=olga');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^text\/csv/);
    assert.match(r.headers.get('content-disposition')!, /^attachment; filename="sealbox-ledger-.*\.csv"$/);
    const lines = r.body.toString('utf8').trimEnd().split('\r\n');
    assert.equal(lines[0], 'index,time,type,actor,actorRoles,logonType,sessionId,clientIp,operation,mailboxes,messages,grantId,result,parameters');
    assert.equal(lines.length - 1, Number(r.headers.get('x-sealbox-entries')));
    assert.ok(lines.slice(1).every((l: string) => l.split(',')[3] === 'user:olga'));
    r = await as.aud.call('GET', '/api/v1/ledger/export?format=json&operation=remote-content&result=success');
    assert.match(r.headers.get('content-disposition')!, /\.json"$/);
    const exported = JSON.parse(Buffer.isBuffer(r.body) ? r.body.toString('utf8') : JSON.stringify(r.body));
    assert.equal(exported.entries.length, 2);
    assert.ok(exported.entries.every((e: any) => e.operation === 'remote-content' && Buffer.from(e.leaf, 'base64').toString('utf8').includes('"remote-content"')));

    for (const who of ['adm', 'olga', 'rita']) {
      assert.equal((await as[who].call('GET', '/api/v1/ledger/entries')).status, 403, who);
      assert.equal((await as[who].call('GET', '/api/v1/ledger/export?format=csv')).status, 403, who);
    }
    const auditorReads = (await world.takeAll()).filter((e) => e.operation.startsWith('ledger.'));
    // The auditor's own reads and exports are entries too, with the filters used.
    assert.deepEqual(auditorReads.filter((e) => e.actor === 'user:aud').map((e) => e.operation), [...Array(5).fill('ledger.read'), 'ledger.export', 'ledger.export']);
    assert.deepEqual(auditorReads.find((e) => e.operation === 'ledger.export')!.parameters, { actor: 'olga', format: 'csv', from: 0, limit: 100_000, order: 'asc', entries: lines.length - 1, userAgent: auditorReads[0].parameters.userAgent });
    assert.deepEqual(auditorReads.filter((e) => e.actor !== 'user:aud').map((e) => [e.actor, e.operation, e.result]), [
      ['user:adm', 'ledger.read', 'denied'], ['user:adm', 'ledger.export', 'denied'], ['user:olga', 'ledger.read', 'denied'], ['user:olga', 'ledger.export', 'denied'],
      ['user:rita', 'ledger.read', 'denied'], ['user:rita', 'ledger.export', 'denied'],
    ]);

    // --- checkpoint history (auditors and admins) ------------------------------------------
    for (const who of ['aud', 'adm']) {
      r = await as[who].call('GET', '/api/v1/ledger/checkpoints');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      // The empty tree head signed at start, and the one over the viewer's mail.
      assert.ok(r.body.checkpoints.length >= 2, JSON.stringify(r.body.checkpoints.map((c: any) => c.size)));
      assert.ok(r.body.checkpoints[0].size > captureIndex, 'the newest covers the capture');
      assert.ok(r.body.checkpoints.every((c: any) => c.signatureValid && c.consistent && c.problem === null), JSON.stringify(r.body.checkpoints.filter((c: any) => c.problem)));
      const sizes = r.body.checkpoints.map((c: any) => c.size);
      assert.deepEqual(sizes, [...sizes].sort((a: number, b: number) => b - a), 'newest first');
    }
    assert.equal((await as.rita.call('GET', '/api/v1/ledger/checkpoints')).status, 403);
    // A page at a time, newest first: each page says where the next (older) one starts.
    const all = r.body.checkpoints.map((c: any) => c.size);
    assert.equal(r.body.total, all.length);
    assert.equal(r.body.older, null, 'one page holds them all');
    const paged: number[] = [];
    for (let before: number | null = null, pages = 0; ; pages++) {
      assert.ok(pages < all.length, 'paging ends');
      const page = await as.adm.call('GET', `/api/v1/ledger/checkpoints?limit=1${before === null ? '' : `&before=${before}`}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.equal(page.body.total, all.length);
      paged.push(...page.body.checkpoints.map((c: any) => c.size));
      if (page.body.older === null) break;
      before = page.body.older;
    }
    assert.deepEqual(paged, all);
    const bad = await as.adm.call('GET', '/api/v1/ledger/checkpoints?limit=0');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'SEALBOX_ERR_BAD_INPUT');
    const cpReads = (await world.takeAll()).filter((e) => e.operation === 'ledger.checkpoints');
    assert.deepEqual(cpReads.map((e) => [e.actor, e.result]), [['user:aud', 'success'], ['user:adm', 'success'], ['user:rita', 'denied'], ...all.map(() => ['user:adm', 'success'])]);
    assert.deepEqual({ ...cpReads.at(-1)!.parameters, userAgent: undefined }, { limit: 1, before: all.at(-2), checkpoints: 1, userAgent: undefined });

    // --- documented ---------------------------------------------------------------------------
    const openapi = (await as.aud.call('GET', '/api/openapi.json')).body;
    for (const [path, method] of [['/api/v1/messages/{sha256}/evidence', 'get'], ['/api/v1/messages/{sha256}/body', 'get'], ['/api/v1/messages/{sha256}/remote-content', 'post'],
      ['/api/v1/ledger/entries', 'get'], ['/api/v1/ledger/export', 'get'], ['/api/v1/ledger/checkpoints', 'get']]) assert.ok(openapi.paths[path]?.[method], `${method} ${path} documented`);
  } finally {
    await world.stop();
  }
});
