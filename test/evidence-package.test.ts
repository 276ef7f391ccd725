// Issue 18, step 1: an evidence package of real corpus mail, exported with `sealbox export` under
// an approved grant that carries export, proves itself with nothing but Python: the shipped
// verify.py passes, and one changed byte of a message, the load file, the manifest or a proof
// fails it, naming the file. The load files are read by parsers written here from the formats
// (RFC 4180; Concordance DAT), not by the code that wrote them, and match the archive as its API
// shows it, envelope-only Bcc included. A grant without export is refused, and the refusal is
// in the ledger; the export is, with the manifest's SHA-256; the owners see it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import type { Delivery } from './support/ingest.ts';
import { RawSmtpClient, toCrlf } from './support/smtp-client.ts';
import { CLI, sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { directoryCsv, signInEveryone, consoleAdds } from './support/access-world.ts';
import { enrolmentCode } from './support/outbox.ts';
import { ApiClient } from './support/api-client.ts';
import { pdfSaying } from './support/pdf.ts';

const digest = (algorithm: string, b: Buffer) => createHash(algorithm).update(b).digest('hex');
const FIELDS = ['ControlNumber', 'Custodian', 'From', 'To', 'CC', 'BCC', 'Subject', 'DateSent', 'DateReceived', 'MessageID', 'SHA256', 'MD5', 'FilePath', 'TextPath', 'AttachmentNames',
  'DocType', 'ParentID', 'AttachmentIDs', 'BegAttach', 'EndAttach', 'FileName'];
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function python(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// RFC 4180: fields separated by commas, records by CRLF; a quoted field may hold commas, line
// breaks and doubled quotes.
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += ch;
  }
  assert.ok(!quoted && field === '' && row.length === 0, 'the CSV ends with a complete record');
  return rows;
}

// Concordance DAT with the tools' default delimiters: ASCII 20 between fields, þ around each,
// ® for a line break inside a value; one record a line.
function parseDat(text: string): string[][] {
  assert.ok(text.endsWith('\r\n'));
  return text.slice(0, -2).split('\r\n').map((line) => line.split('\u0014').map((cell) => {
    assert.ok(cell.startsWith('\u00fe') && cell.endsWith('\u00fe') && cell.length >= 2, `a DAT field is quoted with þ: ${JSON.stringify(cell)}`);
    return cell.slice(1, -1).replaceAll('\u00ae', '\n');
  }));
}

const records = (rows: string[][]) => {
  assert.deepEqual(rows[0], FIELDS, 'the header row names the fields');
  return rows.slice(1).map((r) => Object.fromEntries(FIELDS.map((f, i) => [f, r[i]])) as Record<string, string>);
};

test('an evidence package of corpus mail under an export grant proves itself offline; tampering is named; load files match the archive', { timeout: 600_000 }, async (t) => {
  const config = testConfig({
    internalDomains: ['corp.test'],
    access: { secureCookies: false, requestsPerMinute: 1_000_000, signinPerMinute: 10_000, linkedPeopleDays: 0 },
    // Checkpoints only when the server starts and stops: the test decides what is covered.
    ledger: { checkpointEverySeconds: 3600 },
  });

  // A few hundred real messages, each reaching olga's mailbox by the envelope alone (no header
  // names her: a Bcc), every third bob's too; the first once more, later, for carl.
  const deliveries: Delivery[] = corpusFiles().filter((_, i) => i % 20 === 0).map((file, index) => ({
    index, data: toCrlf(readFileSync(file)),
    envelope: { from: 'journal@relay.test', to: ['olga@corp.test', ...(index % 3 === 0 ? ['bob@corp.test'] : [])] },
  }));
  // And one with a PDF whose text the extractor reads, and a text attachment, olga's by the envelope alone.
  const pdf = pdfSaying('Purchase order 4711 is confirmed for March');
  deliveries.push({
    index: deliveries.length, envelope: { from: 'sales@supplier.test', to: ['olga@corp.test'] },
    data: Buffer.from(['From: Supplier <sales@supplier.test>', 'To: orders@supplier.test', 'Subject: the signed order', 'Date: Mon, 30 Nov 2026 10:00:00 +0000',
      'Message-ID: <order-4711@supplier.test>', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain', '', 'The order is attached.',
      '--b1', 'Content-Type: application/pdf; name="order 4711.pdf"', 'Content-Disposition: attachment; filename="order 4711.pdf"', 'Content-Transfer-Encoding: base64', '',
      pdf.toString('base64').replace(/.{76}/g, '$&\r\n'), '--b1', 'Content-Type: text/csv; name="lines.csv"', 'Content-Disposition: attachment; filename="lines.csv"',
      'Content-Transfer-Encoding: base64', '', Buffer.from('item,qty\r\nwidget,40\r\n').toString('base64'), '--b1--', ''].join('\r\n')),
  });
  const first = await startSealbox({ args: ['--config', config] });
  const replies = await deliverAll(first.smtp.port, deliveries, { connections: 4 });
  assert.deepEqual([...replies.values()].filter((r) => r.code !== 250), []);
  const again = await deliverAll(first.smtp.port, [{ index: 0, data: deliveries[0].data, envelope: { from: 'journal@relay.test', to: ['carl@corp.test'] } }]);
  assert.equal(again.get(0)!.code, 250);
  await waitForIndex(first.data);
  assert.equal(await first.stop(), 0, first.stderr());   // signs a checkpoint that holds every capture

  const plan = new Map<string, { raw: Buffer; custodians: Set<string>; envelopeOnly: Set<string> }>();
  for (const d of deliveries) {
    const sha = digest('sha256', d.data);
    const p = plan.get(sha) ?? { raw: d.data, custodians: new Set<string>(), envelopeOnly: new Set<string>() };
    for (const a of d.envelope.to) { p.custodians.add(a); p.envelopeOnly.add(a); }
    plan.set(sha, p);
  }
  const sha0 = digest('sha256', deliveries[0].data);
  plan.get(sha0)!.custodians.add('carl@corp.test');
  plan.get(sha0)!.envelopeOnly.add('carl@corp.test');
  assert.ok(plan.size >= 250, `a few hundred messages (${plan.size})`);

  const server = await startSealbox({ data: first.data, args: ['--config', config, '--http', '127.0.0.1:0'] });
  t.after(() => server.stop());
  const common = ['--data', server.data, '--config', config];
  const csvFile = join(tempDataDir(), 'directory.csv');
  writeFileSync(csvFile, directoryCsv({ 'olga@corp.test': 'olga', 'bob@corp.test': 'bob', 'carl@corp.test': 'carl' }));
  assert.equal((await sealbox(['mailboxes', 'import', ...common, csvFile])).code, 0);
  const added = await sealbox(['users', 'add', ...common, '--name', 'adm', '--email', 'adm@corp.test', '--role', 'admin']);
  assert.equal(added.code, 0, added.stderr);
  const world = await signInEveryone(() => new ApiClient(server.http!.url), /enrolment code (\S+)/.exec(added.stdout.toString())![1],
    { olga: ['owner'], bob: ['owner'], carl: ['owner'], rita: ['requester'], appr: ['approver'] }, { mailedCode: async (a) => enrolmentCode(server.data, a), atConsole: consoleAdds(common) });
  const { as } = world;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${r.body instanceof Buffer ? r.body.toString() : JSON.stringify(r.body)}`);
    return r.body;
  };

  // An export grant, approved by someone else; a search-only one beside it.
  const ask = (permissions: string[]) => call('rita', 'POST', '/api/v1/requests', {
    purpose: 'legal-hold', justification: 'Supplier dispute: was the March order confirmed?', ticket: 'LEG-18',
    mailboxes: ['olga@corp.test', 'bob@corp.test', 'carl@corp.test'], permissions, durationHours: 4,
  });
  const grant = (await ask(['search', 'read', 'export'])).id as string;
  assert.equal((await call('appr', 'POST', `/api/v1/requests/${grant}/approve`, { reason: 'matter LEG-18 is open' })).state, 'active');
  const searchOnly = (await ask(['search'])).id as string;
  await call('appr', 'POST', `/api/v1/requests/${searchOnly}/approve`, { reason: 'searching only' });
  const made = (await world.takeAll()).filter((e) => e.grantId === grant).map((e) => [e.index, e.operation, e.actor]);
  assert.deepEqual(made.map(([, op]) => op), ['request.file', 'request.approve']);
  const token = (await call('rita', 'POST', '/api/v1/tokens', { name: 'evidence', scopes: ['content'], days: 1 })).token as string;
  const reader = [...common, '--token', token];

  // A message received after the last checkpoint was signed.
  const late = Buffer.from('From: Supplier <sales@supplier.test>\r\nTo: carl@corp.test\r\nSubject: late arrival\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <late@supplier.test>\r\n\r\nConfirmed after all.\r\n');
  const smtp = await RawSmtpClient.connect(server.smtp.port);
  assert.equal((await smtp.send({ from: 'sales@supplier.test', to: ['carl@corp.test'] }, late)).data[0].code, 250);
  await smtp.quit();
  await waitForIndex(server.data);
  await world.takeAll();

  const out = join(tempDataDir(), 'LEG-18');
  const started = performance.now();
  const exported = await sealbox(['export', ...reader, '--grant', grant, '--reason', 'production for LEG-18', '--out', out, 'mailbox:olga@corp.test'], { timeoutMs: 300_000 });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(exported.code, 0, exported.stderr);
  const bytes = [...plan.values()].reduce((n, p) => n + p.raw.length, 0);
  t.diagnostic(`exported ${plan.size} messages (${(bytes / 1e6).toFixed(2)} MB) in ${seconds.toFixed(2)} s with the command's start: ${(plan.size / seconds).toFixed(0)} messages/s, ${(bytes / 1e6 / seconds).toFixed(2)} MB/s; the command says: ${exported.stderr.trim()}`);

  await t.test('the package holds exactly the messages found, as archived, and verify.py passes on it', async () => {
    const names = readdirSync(join(out, 'messages')).sort();
    assert.deepEqual(names, [...plan.keys()].map((s) => `${s}.eml`).sort());
    for (const [sha, p] of plan) assert.ok(readFileSync(join(out, 'messages', `${sha}.eml`)).equals(p.raw), `${sha} bit-exact`);
    assert.deepEqual(readdirSync(join(out, 'evidence')).length, plan.size);
    assert.deepEqual(readdirSync(join(out, 'text')).filter((n) => /^[0-9a-f]{64}\.txt$/.test(n)).length, plan.size, 'a text file a message (and one an attachment with text)');
    assert.deepEqual(readdirSync(join(out, '..')).filter((n) => n.includes('partial')), [], 'nothing half-written is left beside it');

    const ok = await python([join(out, 'verify.py')]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, new RegExp(`^OK ${plan.size} messages and their ${plan.size + 1} receipts, in the tree of size \\d+ of sealbox\\.localhost/ledger signed by`));
    assert.match(ok.stdout, /key taken from verifier-key\.txt/, 'without --key it says whose key it trusted');
    const key = (await sealbox(['ledger', 'public-key', ...common])).stdout.toString().trim();
    const withKey = await python([join(out, 'verify.py'), out, '--key', key]);
    assert.equal(withKey.code, 0, withKey.stdout);
    assert.doesNotMatch(withKey.stdout, /key taken from/);
    // Another key (a package re-signed by someone else) is not the archive's.
    const other = await python([join(out, 'verify.py'), out, '--key', 'sealbox.localhost/ledger+00000000+AQ' + 'A'.repeat(42) + '=']);
    assert.equal(other.code, 1);
  });

  await t.test('one changed byte of a message, the load file, the manifest or a proof fails verify.py, naming the file; so does a file added', async () => {
    const someSha = [...plan.keys()][7];
    const cases: [string, string, (b: Buffer) => Buffer, RegExp][] = [
      ['a file added', 'messages/0000.eml', () => Buffer.from('From: x\r\n\r\nplanted\r\n'), /is not in the manifest/],
      ['a message', `messages/${someSha}.eml`, (b) => { b[Math.floor(b.length / 2)] ^= 0x01; return b; }, /its bytes hash to/],
      ['the CSV load file', 'load/messages.csv', (b) => { b[b.length - 10] ^= 0x01; return b; }, /does not match the manifest/],
      ['the manifest', 'manifest.json', (b) => {
        const at = b.indexOf('"md5": "') + 8;
        b[at] = b[at] === 0x61 ? 0x62 : 0x61;
        return b;
      }, /its signature \(manifest\.sig\) does not verify/],
      ['a proof', `evidence/${someSha}.json`, (b) => {
        const at = b.indexOf('"hashes": [') + b.subarray(b.indexOf('"hashes": [')).indexOf('"', 11) + 1;
        b[at] = b[at] === 0x41 ? 0x42 : 0x41;
        return b;
      }, /inclusion proof does not lead to the checkpoint's root/],
    ];
    for (const [what, file, change, why] of cases) {
      const copy = join(tempDataDir(), 'tampered');
      cpSync(out, copy, { recursive: true });
      writeFileSync(join(copy, file), change(existsSync(join(copy, file)) ? readFileSync(join(copy, file)) : Buffer.alloc(0)));
      const r = await python([join(copy, 'verify.py')]);
      assert.equal(r.code, 1, `${what}: ${r.stdout}`);
      const failures = r.stdout.split('\n').filter((l) => l.startsWith('FAIL '));
      assert.ok(failures.some((l) => l.startsWith(`FAIL ${file}: `) && why.test(l)), `${what} is named: ${failures.join('\n')}`);
      assert.doesNotMatch(r.stdout, /^OK/m);
    }
  });

  await t.test('the CSV and DAT load files, read by parsers of their own, hold one row per message matching the archive, envelope-only Bcc included, each followed by its attachments\' rows', async () => {
    const csvBytes = readFileSync(join(out, 'load/messages.csv'));
    const datBytes = readFileSync(join(out, 'load/messages.dat'));
    assert.ok(csvBytes.subarray(0, 3).equals(BOM) && datBytes.subarray(0, 3).equals(BOM), 'UTF-8 with a byte-order mark');
    // A formula-looking cell was written with a ' in front.
    const csvAll = records(parseCsv(csvBytes.subarray(3).toString('utf8'))).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, /^'[=+\-@\t\r]/.test(v) ? v.slice(1) : v])));
    const datAll = records(parseDat(datBytes.subarray(3).toString('utf8')));
    const datText = (v: string) => v.replace(/[\u0014\u00fe\u00ae]/g, '\ufffd').replace(/\r\n|\r|\n/g, '\n');
    assert.deepEqual(datAll, csvAll.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, datText(v)]))), 'the DAT holds the CSV\'s rows');
    const csv = csvAll.filter((r) => r.DocType === 'message');
    const dat = datAll.filter((r) => r.DocType === 'message');
    assert.ok(csvAll.every((r) => r.DocType === 'message' || r.DocType === 'attachment'));
    for (const rows of [csv, dat]) {
      assert.equal(rows.length, plan.size, 'one row per message');
      assert.deepEqual(rows.map((r) => r.SHA256).sort(), [...plan.keys()].sort());
      assert.deepEqual(rows.map((r) => r.ControlNumber), rows.map((_, i) => `SBX${String(i + 1).padStart(7, '0')}`));
    }
    const split = (v: string) => (v === '' ? [] : v.split('; '));
    // Each attachment's SHA-256 and MD5 as Python's email package decodes it (base64 parts: the
    // exact bytes), to check the rows' against a reader that is not Sealbox's.
    const decoded = await python(['-c', `
import email, email.policy, hashlib, json, os, sys
out = {}
for name in os.listdir(sys.argv[1]):
    m = email.message_from_bytes(open(os.path.join(sys.argv[1], name), 'rb').read(), policy=email.policy.compat32)
    for part in m.walk():
        if part.is_multipart() or part.get('Content-Transfer-Encoding', '').lower() != 'base64':
            continue
        data = part.get_payload(decode=True) or b''
        out[hashlib.sha256(data).hexdigest()] = hashlib.md5(data).hexdigest()
print(json.dumps(out))
`, join(out, 'messages')]);
    assert.equal(decoded.code, 0, decoded.stderr);
    const md5ByPython: Record<string, string> = JSON.parse(decoded.stdout);
    let attachmentRows = 0;
    let md5Checked = 0;
    let withText = 0;
    for (const [i, row] of csv.entries()) {
      const p = plan.get(row.SHA256)!;
      const view = await call('rita', 'GET', `/api/v1/messages/${row.SHA256}?grant=${grant}`);
      const role = (name: string) => view.mailboxes.filter((m: any) => m.role === name).map((m: any) => m.address);
      const expected: Record<string, string> = {
        ControlNumber: row.ControlNumber, Custodian: row.Custodian, From: role('from').join('; '), To: role('to').join('; '), CC: role('cc').join('; '), BCC: role('bcc').join('; '),
        Subject: view.subject ?? '', DateSent: row.DateSent, DateReceived: view.captures.map((c: any) => c.receivedAt).sort()[0],
        MessageID: view.messageId ?? '', SHA256: row.SHA256, MD5: digest('md5', p.raw), FilePath: `messages/${row.SHA256}.eml`, TextPath: `text/${row.SHA256}.txt`,
        AttachmentNames: view.attachments.map((a: any) => a.filename).filter(Boolean).join('; '),
        DocType: 'message', ParentID: '', AttachmentIDs: view.attachments.map((_: unknown, j: number) => `${row.ControlNumber}.${String(j + 1).padStart(4, '0')}`).join('; '),
        BegAttach: row.ControlNumber, EndAttach: view.attachments.length === 0 ? row.ControlNumber : `${row.ControlNumber}.${String(view.attachments.length).padStart(4, '0')}`, FileName: '',
      };
      assert.deepEqual(row, expected, `CSV row ${i + 1}`);
      // Its attachments' rows follow it, one each, in the order the archive lists them.
      const at = csvAll.indexOf(row);
      const family = csvAll.slice(at + 1, at + 1 + view.attachments.length);
      assert.deepEqual(csvAll.filter((r) => r.ParentID === row.ControlNumber), family, `the rows after ${row.ControlNumber} are its attachments`);
      for (const [j, a] of view.attachments.entries() as IterableIterator<[number, any]>) {
        const arow = family[j];
        const hasText = a.extraction === 'ok' || String(a.extraction).startsWith('truncated');
        let textPath = '';
        if (hasText) {
          const read = await call('rita', 'GET', `/api/v1/messages/${row.SHA256}/attachments/${j}/text?grant=${grant}`);
          if (read.text !== '') {
            textPath = `text/${row.SHA256}.${j + 1}.txt`;
            assert.equal(readFileSync(join(out, textPath), 'utf8'), read.text, `${arow.ControlNumber}: its text as the archive reads it`);
            withText++;
          }
        }
        assert.deepEqual(arow, {
          ControlNumber: expected.AttachmentIDs.split('; ')[j], Custodian: row.Custodian, From: '', To: '', CC: '', BCC: '', Subject: '', DateSent: row.DateSent, DateReceived: row.DateReceived,
          MessageID: '', SHA256: a.sha256, MD5: arow.MD5, FilePath: '', TextPath: textPath, AttachmentNames: '', DocType: 'attachment', ParentID: row.ControlNumber,
          AttachmentIDs: '', BegAttach: row.ControlNumber, EndAttach: expected.EndAttach, FileName: a.filename ?? '',
        }, `attachment row ${arow.ControlNumber}`);
        assert.match(arow.MD5, /^[0-9a-f]{32}$/);
        if (md5ByPython[a.sha256]) {
          assert.equal(arow.MD5, md5ByPython[a.sha256], `${arow.ControlNumber}: MD5 of its bytes`);
          md5Checked++;
        }
        attachmentRows++;
      }
      assert.deepEqual(dat[i], Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, datText(v)])), `DAT row ${i + 1}`);
      assert.deepEqual(split(row.Custodian).sort(), [...p.custodians].sort(), 'custodians: the grant\'s mailboxes that hold it');
      for (const a of p.envelopeOnly) assert.ok(split(row.BCC).includes(a), `${a}, known only from the envelope, is a Bcc of ${row.SHA256}`);
      // The Date header, else nothing (the archive dates the message by its receipt then).
      if (row.DateSent !== '') assert.equal(row.DateSent, view.date);
      else assert.ok(view.captures.some((c: any) => c.receivedAt === view.date), `${row.SHA256} has no readable Date header`);
      assert.ok(existsSync(join(out, row.TextPath)));
    }
    assert.ok(csv.some((r) => r.Subject !== '' && r.AttachmentNames !== ''), 'the subset has attachments');
    assert.equal(csvAll.length, csv.length + attachmentRows, 'one row per message and one per attachment, nothing else');
    assert.ok(md5Checked >= 2 && withText >= 2, `attachments' MD5 checked against Python's (${md5Checked}), with text (${withText})`);
    const order = csvAll.find((r) => r.FileName === 'order 4711.pdf')!;
    assert.match(readFileSync(join(out, order.TextPath), 'utf8'), /Purchase order 4711 is confirmed for March/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.ok(manifest.files.some((f: any) => f.path === order.TextPath), 'the attachment\'s text is in the manifest');
  });

  await t.test('every receipt is in the evidence with its envelope; custody names the grant, its approver and the ledger entries that made it', async () => {
    const ev = JSON.parse(readFileSync(join(out, 'evidence', `${sha0}.json`), 'utf8'));
    assert.deepEqual(ev.captures.map((c: any) => c.envelope.rcptTo.map((r: any) => r.address)), [['olga@corp.test', 'bob@corp.test'], ['carl@corp.test']]);
    for (const c of ev.captures) {
      assert.equal(c.source, 'smtp');
      assert.ok(c.proof.hashes.length > 0 && c.ledger.payload && c.ledger.salt, 'proven, with the payload its leaf commits to');
      assert.ok('authentication' in c);
    }
    const custody = JSON.parse(readFileSync(join(out, 'custody.json'), 'utf8'));
    assert.deepEqual([custody.grant.id, custody.grant.purpose, custody.grant.ticket, custody.grant.requester.name, custody.grant.permissions],
      [grant, 'legal-hold', 'LEG-18', 'rita', ['search', 'read', 'export']]);
    assert.match(custody.grant.justification, /March order/);
    assert.deepEqual(custody.grant.scope.mailboxes.sort(), ['bob@corp.test', 'carl@corp.test', 'olga@corp.test']);
    assert.deepEqual(custody.grant.approvals.map((a: any) => [a.approver.name, a.decision, a.reason]), [['appr', 'approve', 'matter LEG-18 is open']]);
    assert.deepEqual(custody.ledger.map((e: any) => [e.index, e.operation, e.actor]), made);
    assert.deepEqual([custody.export.by.name, custody.export.query, custody.export.canonicalQuery !== '', custody.export.found, custody.export.exported, custody.export.note],
      ['rita', 'mailbox:olga@corp.test', true, plan.size, plan.size, 'production for LEG-18']);
  });

  await t.test('the export is one ledger entry carrying the manifest\'s SHA-256, and the owners see it', async () => {
    const entries = (await world.take('rita')).filter((e) => e.operation === 'export');
    assert.equal(entries.length, 1);
    const [e] = entries;
    assert.deepEqual([e.result, e.grantId, e.logonType, e.parameters.format, e.parameters.note, e.objects.messages.length],
      ['success', grant, 'delegated', 'evidence', 'production for LEG-18', plan.size]);
    assert.equal(e.parameters.manifestSha256, digest('sha256', readFileSync(join(out, 'manifest.json'))));
    assert.match(exported.stdout.toString(), new RegExp(`recorded as ledger entry ${e.index};`));
    assert.deepEqual([...e.objects.mailboxes].sort(), ['bob@corp.test', 'carl@corp.test', 'olga@corp.test']);

    const seen = async (who: string) => (await call(who, 'GET', '/api/v1/mailboxes/mine/accesses')).requests.find((g: any) => g.request?.id === grant);
    const olga = await seen('olga');
    assert.deepEqual([olga.person.name, olga.exports, olga.messagesExported], ['rita', 1, plan.size]);
    assert.ok(olga.details.some((d: any) => d.kind === 'export' && d.messages === plan.size));
    const bob = await seen('bob');
    assert.deepEqual([bob.exports, bob.messagesExported], [1, [...plan.values()].filter((p) => p.custodians.has('bob@corp.test')).length]);
  });

  await t.test('a grant without export, or none, is refused: nothing is written and the refusal is in the ledger', async () => {
    await world.takeAll();
    const refusedOut = join(tempDataDir(), 'refused');
    const r = await sealbox(['export', ...reader, '--grant', searchOnly, '--out', refusedOut, 'mailbox:olga@corp.test']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /does not allow export.*\[SEALBOX_ERR_FORBIDDEN\]/);
    assert.equal(existsSync(refusedOut), false);
    assert.deepEqual(readdirSync(join(refusedOut, '..')).filter((n) => n.includes('partial')), []);
    const denied = await world.take('rita');
    assert.deepEqual(denied.map((e) => [e.operation, e.result, e.grantId, e.parameters.format]), [['export', 'denied', searchOnly, 'evidence']]);

    // An owner has no grant: a package carries every recipient of every receipt, which an owner
    // does not see of mail sent to them.
    const ownerToken = (await call('olga', 'POST', '/api/v1/tokens', { name: 'mine', scopes: ['content'], days: 1 })).token as string;
    const own = await sealbox(['export', ...common, '--token', ownerToken, '--out', refusedOut, 'mailbox:olga@corp.test']);
    assert.equal(own.code, 2, own.stderr);
    assert.match(own.stderr, /under an active grant that carries export/);
    assert.deepEqual((await world.take('olga')).filter((e) => e.operation === 'export').map((e) => [e.result, e.logonType]), [['denied', 'owner']]);
  });

  await t.test('a receipt recorded after the checkpoint is listed as not proven yet: a warning, not a pass', async () => {
    const lateOut = join(tempDataDir(), 'late');
    const r = await sealbox(['export', ...reader, '--grant', grant, '--out', lateOut, 'mailbox:carl@corp.test']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /1 receipt\(s\) were recorded after the latest signed checkpoint/);
    assert.match(readFileSync(join(lateOut, 'README.txt'), 'utf8'), /NOT YET PROVEN: 1 receipt/);
    const v = await python([join(lateOut, 'verify.py')]);
    assert.equal(v.code, 3, v.stdout);
    assert.doesNotMatch(v.stdout, /^FAIL/m);
    const lateSha = digest('sha256', late);
    assert.match(v.stdout, new RegExp(`^WARN evidence/${lateSha}\\.json: receipt \\S+ \\(ledger entry \\d+\\): recorded after the checkpoint \\(tree size \\d+\\) was signed: not proven yet$`, 'm'));
    assert.match(v.stdout, /^OK so far: 2 messages and their 3 receipts/m);
  });

  await t.test('on a terminal the command shows a progress bar; --mbox adds an mbox per custodian', async () => {
    // script(1) gives the command a terminal of its own, as an operator's shell would.
    const ttyOut = join(tempDataDir(), 'tty');
    const command = [process.execPath, CLI, 'export', ...reader, '--grant', grant, '--mbox', '--out', ttyOut, 'mailbox:carl@corp.test'].map((a) => `'${a}'`).join(' ');
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
      child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /export \[[█░]+\] 100% \| 2\/2 messages \|/, 'the bar, at its end');
    assert.match(readFileSync(join(ttyOut, 'mbox', 'carl@corp.test.mbox'), 'latin1'), /^From sealbox@localhost [^\n]+\n[\s\S]*^Subject: late arrival$/m);
    assert.ok(JSON.parse(readFileSync(join(ttyOut, 'manifest.json'), 'utf8')).files.some((f: any) => f.path === 'mbox/carl@corp.test.mbox'), 'in the manifest');
    const v = await python([join(ttyOut, 'verify.py')]);
    assert.equal(v.code, 3, v.stdout);
  });
});

test("verify.py's own Ed25519 accepts RFC 8032's test vectors and Node's signatures, and refuses any changed one", { timeout: 60_000 }, async () => {
  // RFC 8032 §7.1, tests 1 to 3: public key, message, signature.
  const cases = [
    ['d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', '', 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'],
    ['3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', '72', '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'],
    ['fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', 'af82', '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'],
  ];
  for (let i = 0; i < 5; i++) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const message = Buffer.from(`sealbox evidence manifest v1\n${'ab'.repeat(i * 16)}`);
    cases.push([Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex'), message.toString('hex'), sign(null, message, privateKey).toString('hex')]);
  }
  const script = join(import.meta.dirname, '..', 'scripts', 'verify-evidence-package.py');
  const r = await python(['-c', `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location('verify', ${JSON.stringify(script)})
verify = importlib.util.module_from_spec(spec)
spec.loader.exec_module(verify)
for key, message, signature in json.loads(sys.argv[1]):
    key, message, signature = bytes.fromhex(key), bytes.fromhex(message), bytes.fromhex(signature)
    assert verify.ed25519_verify(key, message, signature), 'valid'
    for at in (0, 31, 32, 63):
        changed = bytearray(signature)
        changed[at] ^= 1
        assert not verify.ed25519_verify(key, message, bytes(changed)), 'signature byte %d' % at
    assert not verify.ed25519_verify(key, message + b'.', signature), 'message'
    # S + L: the same point, but not the canonical signature RFC 8032 requires.
    s = int.from_bytes(signature[32:], 'little') + verify.L
    assert not verify.ed25519_verify(key, message, signature[:32] + s.to_bytes(32, 'little')), 'S >= L'
print('ok', len(json.loads(sys.argv[1])))
`, JSON.stringify(cases)]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout.trim(), `ok ${cases.length}`);
});
