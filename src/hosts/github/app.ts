// The GitHub App (Probot): one handler per event family (handlers/), each a short list of named
// steps. Pushes give changes and their order, workflow runs give results, comments and reviews carry
// slash commands, installations say which repositories the App is on. Config loading and the
// command loop are the ones every host shares (hosts/common).
import type { ApplicationFunction, Probot } from 'probot';
import { onComment, onLabeled } from './handlers/comment.ts';
import { onInstallation } from './handlers/installation.ts';
import { onPullRequestClosed, onPush } from './handlers/push.ts';
import { onWorkflowRun } from './handlers/workflow-run.ts';
import { githubAppState, type GithubAppDeps } from './repository.ts';

export { CONFIG_PATH, type GithubAppDeps } from './repository.ts';
export { workflowRunRefusal } from './handlers/workflow-run.ts';

export function githubApp(deps: GithubAppDeps): ApplicationFunction {
  const app = githubAppState(deps);
  return (probot: Probot) => {
    probot.on('pull_request.closed', (context) => onPullRequestClosed(app, context));
    probot.on('push', (context) => onPush(app, context));
    probot.on('workflow_run.completed', (context) => onWorkflowRun(app, context));
    probot.on('pull_request.labeled', (context) => onLabeled(app, context));
    probot.on(
      ['issue_comment.created', 'pull_request_review.submitted', 'pull_request_review_comment.created'],
      (context) => onComment(app, context),
    );
    probot.on(['installation', 'installation_repositories'], (context) => onInstallation(app, context));
  };
}
