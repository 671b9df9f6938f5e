// The shape of the webhook payloads the app acts on, checked before a handler sees them: a signed but
// malformed payload is refused with a 400 and a log line, never a 500. Only the fields the handlers
// read are checked, with sane sizes; everything else passes through as GitHub sent it.
import { z } from 'zod';

const repoName = z
  .string()
  .min(3)
  .max(200)
  .regex(/^[\w.-]+\/[\w.-]+$/, 'owner/repo');
const repository = z.looseObject({ full_name: repoName });
const sha = z.string().regex(/^[0-9a-f]{40}$/, 'a 40-character sha');
const text = (max: number) => z.string().max(max);
const user = z
  .looseObject({ login: text(100), type: text(50).optional() })
  .nullable()
  .optional();

/** Probot authenticates as the installation a payload names: when there is one, its id must be a number. */
const installation = z.looseObject({ id: z.number().int().positive() }).optional();

const push = z.looseObject({
  installation,
  ref: text(1000),
  before: sha,
  after: sha,
  repository,
  commits: z
    .array(
      z.looseObject({
        id: sha,
        message: text(1_000_000),
        timestamp: text(100),
        url: text(2000),
        author: z.looseObject({ name: text(300).optional(), username: text(100).nullable().optional() }),
        added: z.array(text(4096)).max(10_000).optional(),
        removed: z.array(text(4096)).max(10_000).optional(),
        modified: z.array(text(4096)).max(10_000).optional(),
      }),
    )
    .max(2048),
});

const workflowRun = z.looseObject({
  installation,
  repository,
  workflow_run: z.looseObject({
    id: z.number().int().positive(),
    display_title: text(1000).optional(),
    conclusion: text(50).nullable(),
    html_url: text(2000),
    path: text(1000).optional(),
  }),
});

const body = text(262_144).nullable().optional();
const comment = z.looseObject({
  installation,
  repository,
  sender: user,
  comment: z.looseObject({ body }).optional(),
  review: z.looseObject({ body }).optional(),
  issue: z.looseObject({ number: z.number().int().positive() }).optional(),
  pull_request: z.looseObject({ number: z.number().int().positive() }).optional(),
});

const pullRequest = z.looseObject({
  installation,
  repository,
  pull_request: z.looseObject({ number: z.number().int().positive(), title: text(1000), html_url: text(2000) }),
});

/** Schemas by event name; events not listed are not acted on and pass as they are. */
const SCHEMAS: Record<string, z.ZodType> = {
  push,
  workflow_run: workflowRun,
  issue_comment: comment,
  pull_request_review: comment,
  pull_request_review_comment: comment,
  pull_request: pullRequest,
};

/** Why a payload of `event` cannot be acted on, or null when it can. */
export function payloadProblem(event: string, payload: unknown): string | null {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return 'the payload is not a JSON object';
  const schema = Object.hasOwn(SCHEMAS, event) ? SCHEMAS[event] : undefined;
  if (!schema) return null;
  const parsed = schema.safeParse(payload);
  if (parsed.success) return null;
  return parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`)
    .join('; ');
}
