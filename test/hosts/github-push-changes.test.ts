// A push's commits as changes: grouped by pull request, and a pull request labelled `ost:priority`
// when it merged jumps the line.
import { describe, expect, it } from 'vitest';
import { changesFromPush, type PullInfo, type PushCommit } from '../../src/hosts/github/push.ts';

const commit = (id: string, message: string): PushCommit => ({
  id,
  message,
  timestamp: '2026-12-02T10:00:00Z',
  url: `https://github.com/o/r/commit/${id}`,
  author: { name: 'Dev', email: 'dev@example.org', username: 'dev' },
});

const pull = (number: number, labels: string[]): PullInfo => ({
  number,
  title: `PR ${number}`,
  html_url: `https://github.com/o/r/pull/${number}`,
  body: null,
  user: { login: 'dev' },
  labels: labels.map((name) => ({ name })),
});

describe('changes from a push', () => {
  it('marks a pull request labelled ost:priority, and no other', async () => {
    const pulls: Record<string, PullInfo> = { a1: pull(1, ['bug']), b2: pull(2, ['ost:priority', 'urgent']) };
    const changes = await changesFromPush(
      'o/r',
      'base',
      [commit('a1', 'Merge pull request #1'), commit('b2', 'Merge pull request #2'), commit('c3', 'direct push')],
      async (sha) => pulls[sha] ?? null,
      [],
    );
    expect(changes.map((c) => [c.id, c.priority ?? false])).toEqual([
      ['github:o/r#1', false],
      ['github:o/r#2', true],
      ['github:o/r@c3', false],
    ]);
  });
});
