import { startInProcessWorld } from '../test/support/in-process.ts';
import type { Figure } from './figures.ts';
import type { BenchOptions } from './run.ts';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

// First provisioning over SCIM as Entra ID does it: one POST /Users a person (1,000; 50 with
// --smoke), each with an address, a department and a manager, one after another on one
// connection, against Sealbox in this process with an admin's scim token. Each request is a
// directory sync in its own transaction, so what one costs as the directory grows is the figure:
// users/s over the whole run, and the last hundred requests' median.
export async function scimBenchmark(o: BenchOptions): Promise<Figure[]> {
  const users = o.smoke ? 50 : 1000;
  const w = await startInProcessWorld({ messages: {}, mailboxes: {}, users: {}, config: { directory: { maxRemovalShare: 0.5 } } });
  try {
    const made = await w.as.adm.call('POST', '/api/v1/tokens', { name: 'bench', scopes: ['scim'], days: 1 });
    const token: string = made.body.token;
    const ids: string[] = [];
    const times: number[] = [];
    const cpu: number[] = [];
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 1; i <= users; i++) {
      const name = `u${String(i).padStart(4, '0')}`;
      const body = {
        schemas: [USER_SCHEMA, ENTERPRISE], userName: `${name}@corp.test`, externalId: `ext-${name}`, active: true, displayName: `Person ${i}`,
        emails: [{ primary: true, type: 'work', value: `${name}@corp.test` }],
        [ENTERPRISE]: { department: `dept-${i % 7}`, ...(i > 1 ? { manager: { value: ids[Math.floor((i - 2) / 10)] } } : {}) },
      };
      const t = performance.now();
      const c = process.cpuUsage();
      const r = await w.request({ method: 'POST', path: '/scim/v2/Users', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: JSON.stringify(body) });
      times.push(performance.now() - t);
      const used = process.cpuUsage(c);
      cpu.push((used.user + used.system) / 1000);
      if (r.status !== 201) throw new Error(`POST /Users ${name}: ${r.status} ${r.payload.toString('utf8').slice(0, 300)}`);
      ids.push(JSON.parse(r.payload.toString('utf8')).id);
      if (i % 100 === 0) o.progress(`scim: ${i} users`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpuAll = process.cpuUsage(c0);
    const cpuSeconds = (cpuAll.user + cpuAll.system) / 1e6;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const last = median(times.slice(-100));
    const lastCpu = median(cpu.slice(-100));
    o.record('scim', { users, seconds, cpuSeconds, lastHundredMedianMs: last, lastHundredCpuMedianMs: lastCpu });
    // CPU time (this process: the server and its client) is the steadier figure on a shared machine.
    return [
      { name: `first provisioning over SCIM, ${users} users (one POST each)`, value: users / seconds, unit: 'users/s', note: `${seconds.toFixed(1)} s in all, ${cpuSeconds.toFixed(1)} s CPU` },
      { name: 'SCIM POST /Users, median of the last 100', value: last, unit: 'ms' },
      { name: 'SCIM POST /Users, median CPU of the last 100', value: lastCpu, unit: 'ms' },
    ];
  } finally {
    await w.stop();
  }
}
