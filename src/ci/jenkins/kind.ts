// The `jenkins` runner kind: `ci.job` names the job; its builds post their result to the callback
// (or are polled when the server has no public URL). On when the server sets JENKINS_URL.
import { z } from 'zod';
import { displayUrl } from '../../http/url.ts';
import type { RunnerKind } from '../kind.ts';
import { JenkinsDispatcher, jenkinsTarget } from './dispatcher.ts';

const HOW_TO_ENABLE = 'set JENKINS_URL, JENKINS_USER and JENKINS_TOKEN';

export const jenkinsKind: RunnerKind = {
  id: 'jenkins',
  config: {
    id: 'jenkins',
    provider: { kind: 'jenkins', named: false },
    repo: { ci: { job: z.string().min(1).optional() } },
    checkCi: (ci) =>
      ci.provider === 'jenkins' && !ci.job
        ? [{ path: ['job'], message: 'required when ci.provider is jenkins (the job path, like ovirt-system-tests)' }]
        : [],
  },
  target: jenkinsTarget,
  callback: true,
  setup: () => 'JENKINS_URL',
  factory: {
    id: 'jenkins',
    howToEnable: HOW_TO_ENABLE,
    create({ env, log, callbackUrl }) {
      if (!env.JENKINS_URL) return null;
      const dispatcher = new JenkinsDispatcher({
        url: env.JENKINS_URL,
        user: env.JENKINS_USER,
        token: env.JENKINS_TOKEN,
        callbackUrl,
        log,
      });
      const results = callbackUrl
        ? `jobs call back to ${displayUrl(callbackUrl)}`
        : 'no OST_PUBLIC_URL, so results are read by polling';
      return {
        dispatchers: { jenkins: dispatcher },
        summary: `Jenkins at ${displayUrl(env.JENKINS_URL)}; ${results}`,
        stop: () => dispatcher.stop(),
      };
    },
  },
};
