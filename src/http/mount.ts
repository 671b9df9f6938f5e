// A handler the HTTP server mounts at a path for a code host (GitHub webhooks, Gerrit events).
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Mount {
  /** The path it answers, and everything below it. */
  path: string;
  /** Names the deliveries it takes in metrics: `github`, `gerrit`. */
  source: string;
  /** Answers the request; an HttpError thrown becomes its status and message. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}
