// `ost-gate check --send-test <address or channel>`: sends one test message with the server config's
// mail or chat settings, and says what the service answered.
import { hostname } from 'node:os';
import type { ServerConfig } from '../config/server.ts';
import { SetupError } from '../config/setup-error.ts';
import { silentLogger } from '../log.ts';
import { notifySetup } from '../notify/setup.ts';
import { SmtpMailer, senderDomain } from '../notify/smtp.ts';
import type { ChannelSettings, EmailServerSettings } from '../notify/config.ts';
import { chatRooms } from '../notify/chat.ts';

const SUBJECT = '[ost-gate] test message';
const text = (how: string) =>
  `This is a test message from ost-gate check on ${hostname()}: ${how} from this server reaches you.`;

/** Sends the test message to `target` (an address, or a channel of `channels:`); the line to print. */
export async function sendTest(config: ServerConfig, target: string, env: NodeJS.ProcessEnv): Promise<string> {
  // the same checks as at start-up: every credential variable is set
  notifySetup({ env, config, log: silentLogger, labels: {}, publicUrl: undefined });
  const { email, channels = {} } = config as {
    email?: EmailServerSettings;
    channels?: Record<string, ChannelSettings>;
  };
  if (target.includes('@')) {
    if (!email) throw new SetupError('--send-test: the server config has no email: section to send mail with');
    const mailer = new SmtpMailer(email, env);
    try {
      const result = await mailer.send([target], {
        subject: SUBJECT,
        text: text('mail'),
        html: `<p>${text('mail')}</p>`,
        messageId: `<test.${Date.now()}@${senderDomain(email.from)}>`,
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
      if (!result.sent) throw new SetupError(`${mailer.label} refused the test mail to ${target}: ${result.permanent}`);
      return `sent a test mail to ${target} through ${mailer.label}`;
    } catch (err) {
      if (err instanceof SetupError) throw err;
      throw new SetupError(`could not send the test mail to ${target}: ${(err as Error).message}`, { cause: err });
    } finally {
      mailer.close();
    }
  }
  if (!Object.hasOwn(channels, target))
    throw new SetupError(
      `--send-test ${target}: give an address, or a channel of the server config (${Object.keys(channels).join(', ') || 'it has none'})`,
    );
  const room = chatRooms({ [target]: channels[target]! }, env)[target]!;
  const result = await room
    .send({ subject: SUBJECT, text: text('chat'), html: `<p>${text('chat')}</p>` }, `ost-gate-test-${Date.now()}`)
    .catch((err: Error) => {
      throw new SetupError(`could not send the test message: ${err.message}`, { cause: err });
    });
  if (!result.sent) throw new SetupError(`${room.label} refused the test message: ${result.permanent}`);
  return `sent a test message to ${room.label}`;
}
