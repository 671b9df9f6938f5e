// A real SMTP server on 127.0.0.1 for tests (smtp-server, from the nodemailer project), which parses
// every mail it takes (mailparser) and keeps it. `answer` decides each mail's fate as a server
// would: accept it, or refuse it with a temporary (4xx) or permanent (5xx) reply.
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface TestSmtp {
  /** smtp://127.0.0.1:<port> */
  url: string;
  /** The mails it took, in order. */
  received: ParsedMail[];
  /** How many mails it refused, and with which codes. */
  refused: number[];
  /** Decides each mail: 250 takes it, 4xx or 5xx refuses it. The default takes everything. */
  answer: (mail: number) => number;
  /** Called with each mail it took, before it answers (a test may kill the sender there). */
  onTaken: (n: number) => void;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<TestSmtp> {
  let offered = 0;
  const smtp: TestSmtp = {
    url: '',
    received: [],
    refused: [],
    answer: () => 250,
    onTaken: () => undefined,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          const code = smtp.answer(offered++);
          if (code === 250) {
            smtp.received.push(mail);
            smtp.onTaken(smtp.received.length - 1);
            return callback();
          }
          smtp.refused.push(code);
          const err = Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'), {
            responseCode: code,
          });
          callback(err);
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.server.address() as { port: number };
  smtp.url = `smtp://127.0.0.1:${address.port}`;
  return smtp;
}
