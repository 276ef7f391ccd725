import { SMTPServer } from 'smtp-server';

export interface SunkMessage {
  from: string;
  to: string[];
  data: string;
}

// A local SMTP server that keeps what it is sent: where notifications and relayed copies land.
export async function startSmtpSink(): Promise<{ port: number; inbox: SunkMessage[]; close(): Promise<void> }> {
  const inbox: SunkMessage[] = [];
  const sink = new SMTPServer({
    authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], logger: false,
    onData(stream, session, callback) {
      let data = '';
      stream.setEncoding('latin1');
      stream.on('data', (c: string) => (data += c));
      stream.on('end', () => {
        inbox.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  return {
    port: (sink.server.address() as { port: number }).port,
    inbox,
    close: () => new Promise<void>((resolve) => sink.close(() => resolve())),
  };
}
