import { readFileSync } from 'node:fs';
import net from 'node:net';

// What every private peer (Postfix, Exim, Dovecot) started by the tests and benchmarks needs:
// a loopback port, the ids of a system user, and a way to tell that the daemon is answering.

/** A port that was free a moment ago (bound on port 0, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** uid and gid of a system user, e.g. Debian's "mail" (8:8), which Dovecot delivers and serves as. */
export function passwdIds(user: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user} in /etc/passwd`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Whether something on the loopback port greets with `banner` (then `bye` is sent). */
export function greets(port: number, banner: string, bye: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('error', () => resolve(false));
    socket.on('data', (c) => {
      data += c.toString();
      if (data.includes('\n')) {
        socket.end(bye);
        resolve(data.startsWith(banner));
      }
    });
    socket.on('close', () => resolve(data.startsWith(banner)));
  });
}
