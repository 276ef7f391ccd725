import { sealbox } from './sealbox.ts';

// A person who may read in tests: a user who owns the mailboxes of the given addresses, enrolled
// and holding a content token, made through the CLI exactly as an operator would.
export async function readerToken(data: string, owns: string[], options: { config?: string; name?: string } = {}): Promise<string> {
  const name = options.name ?? 'reader';
  const base = ['--data', data, ...(options.config ? ['--config', options.config] : [])];
  const password = `${name}-test-password-long-enough`;
  const added = await sealbox(['users', 'add', ...base, '--name', name, '--role', 'owner', '--owns', ...owns]);
  if (added.code !== 0) throw new Error(`users add: ${added.stderr}`);
  const code = /enrolment code (\S+)/.exec(added.stdout.toString())![1];
  const enrolled = await sealbox(['users', 'enrol', ...base, '--name', name, '--code', code], { input: Buffer.from(password + '\n') });
  if (enrolled.code !== 0) throw new Error(`users enrol: ${enrolled.stderr}`);
  const token = await sealbox(['tokens', 'create', ...base, '--name', name], { input: Buffer.from(password + '\n') });
  if (token.code !== 0) throw new Error(`tokens create: ${token.stderr}`);
  return token.stdout.toString().trim();
}

// Runs a content command (search/show) as the token's holder. A message becomes readable once
// the indexer has placed it in its mailboxes, so "not found" is retried until a deadline.
export async function readAs(token: string, args: string[], options: { timeoutMs?: number; expectFound?: boolean } = {}): Promise<Awaited<ReturnType<typeof sealbox>>> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const r = await sealbox([...args, '--token', token]);
    const notYet = r.code !== 0 && /SEALBOX_ERR_NOT_FOUND/.test(r.stderr);
    const empty = r.code === 0 && args[0] === 'search' && r.stdout.length === 0 && options.expectFound;
    if ((!notYet && !empty) || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
