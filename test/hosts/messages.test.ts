// The verdict texts on GitHub and Gerrit say whether a blocked change was tested, and why it is blocked.
import { describe, expect, it } from 'vitest';
import { emptyQueue, type VerdictRecord } from '../../src/core/index.ts';
import { gerritMessage } from '../../src/hosts/gerrit/messages.ts';
import { verdictMessage } from '../../src/hosts/github/messages.ts';
import type { QueueFile } from '../../src/store/types.ts';

const file: QueueFile = {
  schema: 1,
  name: 'q',
  state: emptyQueue('q'),
  outbox: [],
  notices: [],
  deliveries: [],
  historyMoved: 0,
};
file.state.runs['q.4'] = {
  key: 'q.4',
  line: 'main',
  kind: 'batch',
  end: 'b',
  changes: ['a', 'b'],
  refs: {},
  state: 'failed',
  attempt: 1,
  createdAt: 0,
  deadline: 1,
  url: 'https://ci.example/4',
};

describe('blocked verdict messages', () => {
  const tested: VerdictRecord = { change: 'b', verdict: 'blocked', culprit: 'a', run: 'q.4', at: 1 };
  const atOnce: VerdictRecord = {
    change: 'c',
    verdict: 'blocked',
    culprit: 'a',
    reason: 'contains a and does not revert it',
    at: 1,
  };

  it('on GitHub', () => {
    expect(verdictMessage('q', undefined, tested, file)).toContain(
      'tested only on top of `a`, which breaks the system tests ([q.4](https://ci.example/4))',
    );
    const text = verdictMessage('q', undefined, atOnce, file);
    expect(text).toContain('it was not tested on its own');
    expect(text).toContain('Why: contains a and does not revert it.');
    expect(text).not.toContain('tested only on top');
  });

  it('on Gerrit', () => {
    expect(gerritMessage('q', undefined, tested, file)).toContain(
      'Tested only on top of a, which breaks the system tests: https://ci.example/4.',
    );
    const text = gerritMessage('q', undefined, atOnce, file);
    expect(text).toContain('not tested on its own');
    expect(text).toContain('Why: contains a and does not revert it.');
  });
});
