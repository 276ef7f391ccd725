import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../test/support/api-client.ts';
import { consoleAdds, directoryCsv, signInEveryone } from '../test/support/access-world.ts';
import { enrolmentCode } from '../test/support/outbox.ts';
import { sealbox, startSealbox } from '../test/support/sealbox.ts';
import { benchCorpus } from './bench-corpus.ts';
import { corpusArchive } from './corpus-archive.ts';
import type { Figure } from './figures.ts';
import type { BenchOptions } from './run.ts';
import { scratch } from './scratch.ts';

const PEOPLE: Record<string, string[]> = { rita: ['requester'], anna: ['approver'] };
const QUERY = 'before:2100-01-01';

// Export throughput of the corpus archived (6,046 messages): an evidence package of all of it
// under a grant over every recipient's mailbox, made by `sealbox export` (a folder) and by the
// server as an export job (the folder, then zipped: one volume), from the command's start, and
// from the job's start until it is done. Messages/s and MB/s of the messages' own bytes. Then that
// package taken into an empty archive by `sealbox import evidence` (checked whole, then imported).
export async function exportBenchmark(o: BenchOptions): Promise<Figure[]> {
  const { sealbox: ingest } = await corpusArchive(o);
  const corpus = benchCorpus(o.smoke);
  const messages = corpus.shaIndex.size;
  const mb = corpus.rawBytes / 1e6;
  // A copy of the archive: the people and grant made here stay out of the other benchmarks'.
  const out = scratch.dir('export');
  const data = join(out, 'data');
  cpSync(ingest.data, data, { recursive: true });
  const config = join(out, 'export-config.json');
  writeFileSync(config, JSON.stringify({
    auth: { dns: join(ingest.dir, 'zone.json') }, log: { level: 'warn' }, internalDomains: ['example.test'],
    access: { secureCookies: false, requestsPerMinute: 1_000_000, signinPerMinute: 10_000, linkedPeopleDays: 0 }, export: { jobs: 1 },
  }));
  const server = await startSealbox({ data, args: ['--config', config, '--http', '127.0.0.1:0'] });
  try {
    const run = async (args: string[]) => {
      const r = await sealbox([...args, '--data', data, '--config', config], { timeoutMs: 1_800_000 });
      if (r.code !== 0) throw new Error(`sealbox ${args[0]}: ${r.stderr}`);
      return r.stdout.toString();
    };
    const mailboxes = Array.from({ length: 7 }, (_, i) => `rcpt${i}@example.test`);
    const csv = join(out, 'directory.csv');
    writeFileSync(csv, directoryCsv(Object.fromEntries(mailboxes.map((m) => [m, '']))));
    await run(['mailboxes', 'import', csv]);
    const code = /enrolment code (\S+)/.exec(await run(['users', 'add', '--name', 'adm', '--email', 'adm@example.test', '--role', 'admin']))![1]!;
    const url = server.http!.url;
    const world = await signInEveryone(() => new ApiClient(url), code, PEOPLE, { mailedCode: async (a) => enrolmentCode(server.data, a), atConsole: consoleAdds(['--data', data, '--config', config]) });
    const filed = await world.as.rita!.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'export benchmark', ticket: 'LEG-1', mailboxes, permissions: ['search', 'read', 'export'], durationHours: 8 });
    if (filed.status !== 200) throw new Error(`filing: ${JSON.stringify(filed.body)}`);
    const grant = filed.body.id as string;
    const approved = await world.as.anna!.call('POST', `/api/v1/requests/${grant}/approve`, { reason: 'ok' });
    if (approved.status !== 200) throw new Error(`approving: ${JSON.stringify(approved.body)}`);
    const token = (await world.as.rita!.call('POST', '/api/v1/tokens', { name: 'bench', scopes: ['content'], days: 1 })).body.token as string;

    o.progress(`export: sealbox export of ${messages} messages`);
    let t0 = performance.now();
    const exported = await sealbox(['export', '--data', data, '--config', config, '--token', token, '--grant', grant, '--out', join(out, 'package'), QUERY], { timeoutMs: 1_800_000 });
    if (exported.code !== 0) throw new Error(`sealbox export: ${exported.stderr}`);
    const cli = (performance.now() - t0) / 1000;
    // The command's own CPU time for the export (its last line says it), not its start.
    const cliCpu = Number(/\(([\d.]+) s of CPU\)/.exec(exported.stderr)?.[1] ?? NaN);

    o.progress(`export: sealbox import evidence of ${messages} messages into an empty archive`);
    const key = await run(['ledger', 'public-key']);
    t0 = performance.now();
    const imported = await sealbox(['import', 'evidence', '--data', join(out, 'receiving'), '--config', config, '--verifier-key', key.trim(), '--report', join(out, 'import.json'), join(out, 'package')], { timeoutMs: 1_800_000 });
    if (imported.code !== 0) throw new Error(`sealbox import evidence: ${imported.stderr}`);
    const importSeconds = (performance.now() - t0) / 1000;
    const report = JSON.parse(readFileSync(join(out, 'import.json'), 'utf8')) as { imported: number; seconds: number };
    if (report.imported !== messages) throw new Error(`the import took ${report.imported} of ${messages} messages`);
    // What checking the package took: the command's whole time less its start and the import itself.
    const importRun = report.seconds;

    o.progress(`export: an export job of ${messages} messages`);
    t0 = performance.now();
    const cpu0 = cpuSeconds(server.proc.pid!);
    const started = await world.as.rita!.call('POST', '/api/v1/exports', { q: QUERY, grant });
    if (started.status !== 202) throw new Error(`export job: ${JSON.stringify(started.body)}`);
    if (started.body.found !== messages) throw new Error(`the job found ${started.body.found} of ${messages} messages`);
    for (;;) {
      const j = (await world.as.rita!.call('GET', `/api/v1/exports/${started.body.id}`)).body;
      if (j.state === 'done') break;
      if (j.state !== 'queued' && j.state !== 'running') throw new Error(`export job ${j.state}: ${j.error}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const job = (performance.now() - t0) / 1000;
    const jobCpu = cpuSeconds(server.proc.pid!) - cpu0;
    o.record('export', { messages, mb, cliSeconds: cli, cliCpuSeconds: cliCpu, jobSeconds: job, jobCpuSeconds: jobCpu, importSeconds, importRunSeconds: importRun });
    return [
      { name: 'sealbox export (folder), messages/s', value: messages / cli, unit: 'msg/s', note: `${messages} messages, ${mb.toFixed(1)} MB, ${cli.toFixed(1)} s with the command's start` },
      { name: 'sealbox export (folder), MB/s', value: mb / cli, unit: 'MB/s' },
      { name: 'sealbox export (folder), messages per CPU-second', value: messages / cliCpu, unit: 'msg/s', note: `${cliCpu.toFixed(1)} s of CPU` },
      { name: 'export job (folder and zip), messages/s', value: messages / job, unit: 'msg/s', note: `${job.toFixed(1)} s from POST to done` },
      { name: 'export job (folder and zip), MB/s', value: mb / job, unit: 'MB/s' },
      { name: 'export job (folder and zip), messages per CPU-second', value: messages / jobCpu, unit: 'msg/s', note: `${jobCpu.toFixed(1)} s of the server's CPU` },
      { name: 'sealbox import evidence (folder), messages/s', value: messages / importSeconds, unit: 'msg/s', note: `${importSeconds.toFixed(1)} s with the command's start and the package's check; the import itself ${importRun.toFixed(1)} s` },
      { name: 'sealbox import evidence (folder), MB/s', value: mb / importSeconds, unit: 'MB/s' },
    ];
  } finally {
    await server.stop();
    scratch.remove(out);
  }
}

// A process's CPU time so far (user and system, every thread), from /proc.
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based, proc(5)).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
