// Browsing a mailbox through the API: a search answers the total in scope and a page in either
// order; snippets come escaped with the words found marked; a conversation lists only what is
// in the reader's scope; ß finds ss; export for owners and for grants that carry it (and only
// those). Every call is checked against the ledger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startInProcessWorld } from './support/in-process.ts';

const day = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toUTCString().replace('GMT', '+0000');

function mail(h: { from: string; to: string; subject: string; date: string; id: string; inReplyTo?: string; references?: string[]; body: string }): Buffer {
  const lines = [`From: ${h.from}`, `To: ${h.to}`, `Subject: ${h.subject}`, `Date: ${h.date}`, `Message-ID: <${h.id}>`];
  if (h.inReplyTo) lines.push(`In-Reply-To: <${h.inReplyTo}>`);
  if (h.references) lines.push(`References: ${h.references.map((r) => `<${r}>`).join(' ')}`);
  lines.push('MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', h.body, '');
  return Buffer.from(lines.join('\r\n'));
}

test('search totals, order, snippets, conversations, spellings and export', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {},
    mailboxes: { 'olga@corp.test': 'olga', 'tgt@corp.test': '', 'other@corp.test': '' },
    users: { olga: ['owner'], rita: ['requester'], appr: ['approver'] },
  });
  t.after(() => world.stop());
  const { as } = world;
  const sha: Record<string, string> = {};
  const deliver = async (key: string, to: string[], raw: Buffer) => {
    sha[key] = createHash('sha256').update(raw).digest('hex');
    await world.deliver({ from: 'x@ext.test', to }, raw);
  };
  // 120 messages to olga, an hour apart; every third says "quarterly".
  for (let i = 0; i < 120; i++) {
    await deliver(`o${i}`, ['olga@corp.test'], mail({ from: 'x@ext.test', to: 'olga@corp.test', subject: `Note ${i}`, date: day(i), id: `o${i}@ext.test`, body: `Note number ${i}.${i % 3 === 0 ? ' The quarterly figures.' : ''}` }));
  }
  await deliver('html', ['olga@corp.test'], mail({ from: 'x@ext.test', to: 'olga@corp.test', subject: 'Markup', date: day(200), id: 'html@ext.test',
    body: 'Please read: <script>alert("x")</script> and <b>bold</b> & <img src=x onerror=alert(1)> about the Straßenfest budget.' }));
  // A conversation over two mailboxes: the root and one reply to tgt@, another reply to other@.
  await deliver('t1', ['tgt@corp.test'], mail({ from: 'x@ext.test', to: 'tgt@corp.test', subject: 'Merger', date: day(300), id: 't1@ext.test', body: 'Root of the merger talk.' }));
  await deliver('t2', ['other@corp.test'], mail({ from: 'x@ext.test', to: 'other@corp.test', subject: 'Re: Merger', date: day(301), id: 't2@ext.test', inReplyTo: 't1@ext.test', references: ['t1@ext.test'], body: 'Aside to other.' }));
  await deliver('t3', ['tgt@corp.test'], mail({ from: 'x@ext.test', to: 'tgt@corp.test', subject: 'Re: Re: Merger', date: day(302), id: 't3@ext.test', inReplyTo: 't2@ext.test', references: ['t1@ext.test', 't2@ext.test'], body: 'Back to tgt.' }));
  await world.takeAll();

  const get = async (who: string, path: string, status = 200) => {
    const r = await as[who].call('GET', path);
    assert.equal(r.status, status, `${who} GET ${path}: ${JSON.stringify(r.body)}`);
    return r;
  };
  const search = (who: string, params: Record<string, string | number>) => get(who, `/api/v1/search?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`);
  const all = 'mailbox:olga@corp.test';

  await t.test('the total is every match in scope; pages and both orders agree with it', async () => {
    const first = (await search('olga', { q: all })).body;
    assert.equal(first.total, 121);
    assert.equal(first.results.length, 50);
    assert.equal(first.results[0].sha256, sha.html, 'newest first by default');
    const pages: string[] = [];
    for (let offset = 0; offset < 121; offset += 50) pages.push(...(await search('olga', { q: all, offset, sort: 'oldest' })).body.results.map((h: any) => h.sha256));
    assert.deepEqual(pages, [...Array.from({ length: 120 }, (_, i) => sha[`o${i}`]), sha.html], 'oldest first, page by page');
    const past = (await search('olga', { q: all, offset: 500 })).body;
    assert.deepEqual([past.total, past.results.length], [121, 0], 'a page past the end still says the total');
    assert.equal((await search('olga', { q: 'quarterly' })).body.total, 40);
    const entries = (await world.take('olga')).filter((e) => e.operation === 'search');
    assert.deepEqual(entries.map((e) => [e.parameters.results, e.parameters.total, e.parameters.sort ?? 'newest']),
      [[50, 121, 'newest'], [50, 121, 'oldest'], [50, 121, 'oldest'], [21, 121, 'oldest'], [0, 121, 'newest'], [40, 40, 'newest']]);
    const best = (await search('olga', { q: 'quarterly', sort: 'relevance' })).body;
    assert.deepEqual([best.sort, best.total, best.results.length], ['relevance', 40, 40]);
    assert.equal((await search('olga', { q: all, sort: 'relevance' })).body.sort, 'newest', 'no word to rank by: newest first, and said so');
    await get('olga', `/api/v1/search?q=quarterly&sort=random`, 400);
    const refused = await as.rita.call('GET', `/api/v1/search?q=${encodeURIComponent(all)}`);
    assert.deepEqual([refused.status, refused.body.total], [403, undefined], 'rita owns nothing: refused, no count');
  });

  await t.test('snippets: escaped, the words found marked, never the mail\'s own markup', async () => {
    const r = (await search('olga', { q: 'strassenfest', snippets: 1 })).body;
    assert.deepEqual(r.results.map((h: any) => h.sha256), [sha.html], 'ß is found by ss');
    const snippet: string = r.results[0].snippet;
    assert.equal(snippet, 'Please read: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; and &lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert(1)&gt; about the <mark>Straßenfest</mark> budget.');
    const quarterly = (await search('olga', { q: 'quarterly', snippets: 1, limit: 5 })).body.results;
    assert.equal(quarterly.length, 5);
    for (const h of quarterly) assert.match(h.snippet, /^Note number \d+\. The <mark>quarterly<\/mark> figures\.$/);
    const plain = (await search('olga', { q: 'subject:markup', snippets: 1 })).body.results[0].snippet;
    assert.doesNotMatch(plain, /<(?!\/?mark>)/, 'no word of the text searched: its start, escaped');
    assert.equal((await search('olga', { q: all })).body.results[0].snippet, undefined, 'snippets only when asked');
    const entry = (await world.take('olga')).find((e) => e.parameters.snippets === true)!;
    assert.deepEqual(entry.objects.messages, [sha.html], 'the entry names the message whose text was read');
    await get('olga', `/api/v1/search?q=quarterly&snippets=1&limit=101`, 400);
    // A message larger than 4 MB is authenticated only when read whole: no passage of it.
    await deliver('big', ['olga@corp.test'], mail({ from: 'x@ext.test', to: 'olga@corp.test', subject: 'Big', date: day(400), id: 'big@ext.test', body: `zebra crossing ${'lorem ipsum '.repeat(400_000)}` }));
    const big = (await search('olga', { q: 'zebra', snippets: 1 })).body.results;
    assert.deepEqual(big.map((h: any) => [h.sha256, h.snippet]), [[sha.big, '']]);
  });

  // rita's grant covers tgt@ only.
  const grant = async (permissions: string[]) => {
    const r = await as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'merger case', ticket: `M-${permissions.join('-')}`, mailboxes: ['tgt@corp.test'], permissions, durationHours: 1 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await as.appr.call('POST', `/api/v1/requests/${r.body.id}/approve`, { reason: 'ok' })).status, 200);
    return r.body.id as string;
  };

  await t.test('a conversation lists only the messages in the reader\'s scope', async () => {
    const g = await grant(['search', 'read']);
    await world.takeAll();
    for (const m of ['t1', 't3']) {
      const r = (await get('rita', `/api/v1/messages/${sha[m]}/thread?grant=${g}`)).body;
      assert.deepEqual(r.messages.map((h: any) => h.sha256), [sha.t1, sha.t3], `${m}: t2 went to other@, outside the grant`);
      assert.equal(r.position, m === 't1' ? 0 : 1);
    }
    const refused = await get('rita', `/api/v1/messages/${sha.t2}/thread?grant=${g}`, 404);
    assert.equal(refused.body.error.code, 'SEALBOX_ERR_NOT_FOUND', 'out of scope looks like missing');
    const entries = (await world.take('rita')).filter((e) => e.type === 'access');
    assert.deepEqual(entries.map((e) => [e.operation, e.result, e.objects.messages.length, e.parameters.results ?? null]),
      [['search', 'success', 2, 2], ['search', 'success', 2, 2], ['search', 'denied', 1, null]]);
    assert.ok(entries.every((e) => !e.objects.messages.includes(sha.t2) || e.result === 'denied'), 't2 is named only by the refusal of it');
    assert.equal((await search('rita', { q: 'merger', grant: g })).body.total, 2, 'the total counts only the scope');
    const owner = (await get('olga', `/api/v1/messages/${sha.o5}/thread`)).body;
    assert.deepEqual([owner.messages.length, owner.position], [1, 0], 'a message alone is a conversation of one');
    await get('olga', `/api/v1/messages/${sha.t1}/thread`, 404);
  });

  await t.test('export: an owner their own; a grant with export; refused without it', async () => {
    const own = await get('olga', `/api/v1/export?q=quarterly&limit=10000`);
    assert.equal(own.headers.get('x-sealbox-messages'), '40');
    assert.equal(own.headers.get('x-sealbox-total'), '40');
    assert.equal((own.body as Buffer).toString('latin1').match(/^From sealbox@localhost /gm)?.length, 40);
    const withExport = await grant(['search', 'read', 'export']);
    const withoutExport = await grant(['search', 'read']);
    await world.takeAll();
    const ok = await get('rita', `/api/v1/export?q=merger&grant=${withExport}`);
    assert.equal(ok.headers.get('x-sealbox-messages'), '2');
    assert.ok(!(ok.body as Buffer).toString('latin1').includes('Aside to other'), 'nothing outside the scope');
    const no = await get('rita', `/api/v1/export?q=merger&grant=${withoutExport}`, 403);
    assert.equal(no.body.error.code, 'SEALBOX_ERR_FORBIDDEN');
    assert.deepEqual((await world.take('rita')).filter((e) => e.operation === 'export').map((e) => [e.result, e.grantId, e.objects.messages.length]),
      [['success', withExport, 2], ['denied', withoutExport, 0]]);
  });
});
