// Which queue a repository's changes go to: its own stream's, a queue it names in its owner's
// namespace, or a shared queue the server config declares with it as a member. Nothing else: a queue
// belongs to one owner (README, "Who may share a queue with whom").
import { describe, expect, it } from 'vitest';

import { OPERATOR, placeQueue, type RepoOwner } from '../../src/hosts/common/repo-config.ts';
import { configRules } from '../../src/registry.ts';

const octo: RepoOwner = { namespace: 'github:octo/', member: 'github:octo/app', repository: 'octo/app' };
const OWN = 'github:octo/app@main';
const config = (queue: string | null, extra = '') =>
  configRules.parseRepo(
    `${queue ? `queue: ${JSON.stringify(queue)}\n` : ''}ci: {provider: github-actions, workflow: mine.yml}\n${extra}`,
  );
const shared = {
  ovirt: configRules.sharedQueueSchema.parse({
    members: ['github:octo/*', 'gerrit:gerrit.example.org/engine'],
    repository: 'octo/ost',
    ci: { provider: 'github-actions', workflow: 'ost.yml', max_parallel: 4 },
    commands: { permission: 'maintain' },
  }),
  other: configRules.sharedQueueSchema.parse({ members: ['github:someone/*'], ci: { provider: 'jenkins', job: 'x' } }),
};

describe('placing a repository in a queue', () => {
  it.each([
    ['no queue: the stream own queue', null, OWN],
    ['a plain name: inside the owner namespace', 'ovirt-master', 'github:octo/ovirt-master'],
    ['a name already in the owner namespace', 'github:octo/shared', 'github:octo/shared'],
    ['a declared shared queue it is a member of', 'ovirt', 'ovirt'],
    ['the stream queue of another branch of its own', 'github:octo/app@stable', 'github:octo/app@stable'],
  ])('%s', (_what, queue, expected) => {
    const decision = placeQueue(config(queue), octo, OWN, shared);
    expect(decision.queue).toBe(expected);
    expect(decision.refused).toBeUndefined();
  });

  it.each([
    ['another owner queue', 'github:victim/app@main', /belongs to another owner/],
    ['another host queue', 'gerrit:gerrit.example.org/engine@master', /belongs to another owner/],
    ['a stream queue of another repository of its owner', 'github:octo/victim@main', /belongs to github:octo\/victim/],
    ['a stream queue named without its namespace', 'victim@main', /belongs to github:octo\/victim/],
    ['a declared queue it is not a member of', 'other', /is not a member of the shared queue other/],
  ])('refuses %s: the changes stay in their own queue', (_what, queue, why) => {
    const decision = placeQueue(config(queue), octo, OWN, shared);
    expect(decision.queue).toBe(OWN);
    expect(decision.refused).toMatch(why);
    expect(decision.ci).toMatchObject({ provider: 'github-actions', workflow: 'mine.yml', repository: 'octo/app' });
    expect(decision.owner).toBe('github:octo/app');
  });

  it('names the owner of the queue it placed in: the repository, or the server config for a declared queue', () => {
    expect(placeQueue(config('ovirt-master'), octo, OWN, shared).owner).toBe('github:octo/app');
    expect(placeQueue(config('ovirt'), octo, OWN, shared).owner).toBe(OPERATOR);
  });

  it('lets the declared settings of a shared queue win, and names the member settings it overrode', () => {
    const decision = placeQueue(config('ovirt', 'commands: {permission: read}'), octo, OWN, shared);
    expect(decision.ci).toMatchObject({ provider: 'github-actions', workflow: 'ost.yml', repository: 'octo/ost' });
    expect(decision.config.ci.max_parallel).toBe(4);
    expect(decision.config.commands.permission).toBe('maintain');
    expect(decision.overridden).toEqual(['ci', 'commands']);
  });

  it('says nothing when a member agrees with the declared settings', () => {
    const agreeing = configRules.parseRepo(
      'queue: ovirt\nci: {provider: github-actions, workflow: ost.yml, max_parallel: 4}\ncommands: {permission: maintain}',
    );
    expect(placeQueue(agreeing, octo, OWN, shared).overridden).toBeUndefined();
  });
});
