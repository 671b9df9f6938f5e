// A stand-in Gerrit server for tests: projects with a real commit graph, changes with patch sets, and
// the submit types as Gerrit's documentation describes them (project-configuration: fast forward
// only, merge if necessary, merge always, rebase if necessary, rebase always, cherry pick). A submit
// moves the branch and returns the events Gerrit sends for it (ref-updated, then change-merged per
// change, every one with the branch's tip after the whole submission as `newRev`). Its REST answers
// (behind nock, with the `)]}'` guard) are the documented shapes: ChangeInfo, CommitInfo,
// IncludedInInfo, FileInfo maps, GroupInfo and AccountInfo lists, and the documented errors (404
// for what is not there, 405 for the members of an external group).
import { createHash } from 'node:crypto';
import nock from 'nock';
import type { GerritAccount, GerritEvent } from '../../src/hosts/gerrit/types.ts';

export type SubmitType =
  'FAST_FORWARD_ONLY' | 'MERGE_IF_NECESSARY' | 'MERGE_ALWAYS' | 'REBASE_IF_NECESSARY' | 'REBASE_ALWAYS' | 'CHERRY_PICK';

export const SUBMIT_TYPES: SubmitType[] = [
  'FAST_FORWARD_ONLY',
  'MERGE_IF_NECESSARY',
  'MERGE_ALWAYS',
  'REBASE_IF_NECESSARY',
  'REBASE_ALWAYS',
  'CHERRY_PICK',
];

interface Commit {
  sha: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; date: string };
  files: string[];
}

interface PatchSet {
  number: number;
  revision: string;
}

export interface FakeChange {
  project: string;
  branch: string;
  number: number;
  changeId: string;
  subject: string;
  owner: Required<Pick<GerritAccount, 'name' | 'email' | 'username' | '_account_id'>>;
  status: 'NEW' | 'MERGED' | 'ABANDONED';
  patchSets: PatchSet[];
  files: string[];
  submitted?: string;
  submissionId?: string;
  /** The number of the change it reverts (a change made by POST /changes/{id}/revert). */
  revertOf?: number;
}

export interface Review {
  project: string;
  number: number;
  /** The revision the review was posted on, as the URL named it (`current`, or a patch set's commit). */
  revision?: string;
  body: { message: string; tag: string; notify?: string; labels?: Record<string, number> };
}

const DEV = { name: 'Dev', email: 'dev@example.org', username: 'dev', _account_id: 1000001 };
const SERVICE = { name: 'ost-gate', email: 'ost-gate@example.org', username: 'ost-gate', _account_id: 1000002 };
const XSSI = ")]}'\n";

/** Group definitions: its members, or 'external' (an LDAP group: Gerrit cannot list its members). */
export type FakeGroup = { members: GerritAccount[]; visibleToAll?: boolean; owners?: string[] } | 'external';

export class FakeGerrit {
  readonly url: string;
  readonly reviews: Review[] = [];
  /** The REST calls served, as `METHOD path`. */
  readonly calls: string[] = [];
  /** The config file of each project (`.ost-gate.yml` at the branch tip); null: none. */
  configFor: (project: string) => string | null = () => null;
  /** Groups by name. */
  groups: Record<string, FakeGroup> = {};
  /** The groups each account is a member of (its own and external ones), by username. */
  accountGroups: Record<string, string[]> = {};
  /** Whether the service user has Administrate Server (it then sees every group of every account). */
  serviceIsAdmin = false;
  /** Gerrit before 3.2: ChangeInfo has no submission_id. */
  noSubmissionIds = false;
  /** Whether the service user has the Revert and Submit rights (403 from /revert and /submit without). */
  rights = { revert: true, submit: true };
  /** The events of the submissions made through REST (/submit), for a test to send on. */
  readonly restEvents: GerritEvent[] = [];
  /** Called before each REST answer: a test makes Gerrit slow here. */
  delay: ((method: string, path: string) => Promise<void>) | null = null;

  private readonly commits = new Map<string, Commit>();
  private readonly branches = new Map<string, string>();
  private readonly changes = new Map<number, FakeChange>();
  private nextNumber = 1;
  private clock = 1_700_000_000;
  private counter = 0;

  constructor(url = 'https://gerrit.example.org') {
    this.url = url;
  }

  get host(): string {
    return new URL(this.url).host;
  }

  private tick(): number {
    return ++this.clock;
  }

  private stamp(seconds: number): string {
    return new Date(seconds * 1000).toISOString().replace('T', ' ').replace('Z', '000000');
  }

  /** A new commit object. */
  commit(parents: string[], message: string, files: string[] = ['src/main.c']): string {
    const sha = createHash('sha1')
      .update(`${++this.counter}\0${parents.join(',')}\0${message}`)
      .digest('hex');
    this.commits.set(sha, {
      sha,
      parents,
      message,
      author: { name: DEV.name, email: DEV.email, date: this.stamp(this.tick()) },
      files,
    });
    return sha;
  }

  /** Creates a project with a branch holding one initial commit; returns that commit. */
  createProject(project: string, branch = 'master'): string {
    const root = this.commit([], `Initial commit of ${project}\n`, ['README']);
    this.branches.set(`${project}:${branch}`, root);
    return root;
  }

  tip(project: string, branch = 'master'): string {
    const tip = this.branches.get(`${project}:${branch}`);
    if (!tip) throw new Error(`no branch ${branch} in ${project}`);
    return tip;
  }

  change(number: number): FakeChange {
    const c = this.changes.get(number);
    if (!c) throw new Error(`no change ${number}`);
    return c;
  }

  /** The changes made by POST /changes/{id}/revert of change `number`. */
  revertsOf(number: number): FakeChange[] {
    return [...this.changes.values()].filter((c) => c.revertOf === number);
  }

  /** The commit a change's current patch set has. */
  revision(number: number): string {
    return this.change(number).patchSets.at(-1)!.revision;
  }

  /** The first parent of a commit. */
  parentOf(sha: string): string | undefined {
    return this.commits.get(sha)?.parents[0];
  }

  /** Whether `sha` is `tip` or one of its ancestors. */
  contains(tip: string, sha: string): boolean {
    const seen = new Set<string>();
    const todo = [tip];
    while (todo.length) {
      const c = todo.pop()!;
      if (c === sha) return true;
      if (seen.has(c)) continue;
      seen.add(c);
      todo.push(...(this.commits.get(c)?.parents ?? []));
    }
    return false;
  }

  /**
   * Uploads a change for review: its commit sits on `on` (default: the branch tip, or the change
   * below it in a stack).
   */
  upload(
    project: string,
    opts: { branch?: string; subject?: string; on?: string; number?: number; files?: string[]; body?: string } = {},
  ): FakeChange {
    const branch = opts.branch ?? 'master';
    if (!this.branches.has(`${project}:${branch}`)) this.createProject(project, branch);
    const number = opts.number ?? this.nextNumber;
    this.nextNumber = Math.max(this.nextNumber, number + 1);
    const changeId = `I${createHash('sha1').update(`change ${project} ${number}`).digest('hex')}`;
    const subject = opts.subject ?? `${project} change ${number}`;
    const message = `${subject}\n\n${opts.body ? `${opts.body}\n\n` : ''}Change-Id: ${changeId}\n`;
    const files = opts.files ?? [`src/${project}-${number}.c`];
    const revision = this.commit([opts.on ?? this.tip(project, branch)], message, files);
    const change: FakeChange = {
      project,
      branch,
      number,
      changeId,
      subject,
      owner: DEV,
      status: 'NEW',
      patchSets: [{ number: 1, revision }],
      files,
    };
    this.changes.set(number, change);
    return change;
  }

  /** Uploads `n` changes, each on the one before: a stack (relation chain). */
  uploadStack(project: string, n: number, opts: { branch?: string; first?: number } = {}): FakeChange[] {
    const out: FakeChange[] = [];
    for (let i = 0; i < n; i++) {
      const on = out.at(-1) ? this.revision(out.at(-1)!.number) : undefined;
      out.push(
        this.upload(project, {
          ...(opts.branch ? { branch: opts.branch } : {}),
          ...(on ? { on } : {}),
          ...(opts.first !== undefined ? { number: opts.first + i } : {}),
        }),
      );
    }
    return out;
  }

  /** A commit pushed straight to the branch, past review; returns its ref-updated event. */
  push(
    project: string,
    commits: { subject: string; changeId?: string; files?: string[]; merge?: string }[],
    branch = 'master',
  ): GerritEvent[] {
    const old = this.tip(project, branch);
    let tip = old;
    for (const c of commits) {
      const footer = c.changeId ? `\nChange-Id: ${c.changeId}\n` : '';
      tip = this.commit(c.merge ? [tip, c.merge] : [tip], `${c.subject}\n${footer}`, c.files);
    }
    this.branches.set(`${project}:${branch}`, tip);
    return [this.refUpdated(project, branch, old, tip)];
  }

  /** Moves the branch to `sha` (a force-push); returns its ref-updated event. */
  forcePush(project: string, sha: string, branch = 'master'): GerritEvent[] {
    const old = this.tip(project, branch);
    this.branches.set(`${project}:${branch}`, sha);
    return [this.refUpdated(project, branch, old, sha)];
  }

  /**
   * Submits `changes` together (a stack with "submit including parents", or a topic), the way the
   * submit type does it, and returns the events Gerrit sends: one ref-updated, then one change-merged
   * per change, each with the tip after the whole submission as `newRev`.
   */
  submit(changes: FakeChange[], type: SubmitType = 'MERGE_IF_NECESSARY'): GerritEvent[] {
    const { project, branch } = changes[0]!;
    const old = this.tip(project, branch);
    let tip = old;
    const footers = (c: FakeChange) =>
      `Reviewed-on: ${this.url}/c/${c.project}/+/${c.number}\nReviewed-by: Root <root@example.org>\n`;
    const rewrite = (c: FakeChange, parent: string, withFooters: boolean) => {
      const base = this.commits.get(this.revision(c.number))!;
      const sha = this.commit([parent], withFooters ? `${base.message}${footers(c)}` : base.message, base.files);
      c.patchSets.push({ number: c.patchSets.length + 1, revision: sha });
      return sha;
    };
    const topOf = (stack: FakeChange[]) => this.revision(stack.at(-1)!.number);
    switch (type) {
      case 'FAST_FORWARD_ONLY':
        for (const c of changes) {
          if (this.commits.get(this.revision(c.number))!.parents[0] !== tip)
            throw new Error(`change ${c.number} cannot be fast-forwarded`);
          tip = this.revision(c.number);
        }
        break;
      case 'REBASE_IF_NECESSARY':
        for (const c of changes)
          tip =
            this.commits.get(this.revision(c.number))!.parents[0] === tip
              ? this.revision(c.number)
              : rewrite(c, tip, false);
        break;
      case 'REBASE_ALWAYS':
      case 'CHERRY_PICK':
        for (const c of changes) tip = rewrite(c, tip, true);
        break;
      case 'MERGE_IF_NECESSARY':
      case 'MERGE_ALWAYS': {
        const top = topOf(changes);
        const fastForward = type === 'MERGE_IF_NECESSARY' && this.contains(top, tip);
        if (fastForward) tip = top;
        else {
          const message =
            changes.length === 1
              ? `Merge "${changes[0]!.subject}"\n`
              : `Merge changes ${changes.map((c) => c.changeId.slice(0, 8)).join(',')}\n\n${changes.map((c) => `* changes:\n  ${c.subject}`).join('\n')}\n`;
          tip = this.commit([tip, top], message, []);
        }
        break;
      }
    }
    this.branches.set(`${project}:${branch}`, tip);
    const at = this.tick();
    const submissionId = `${changes.at(-1)!.number}`;
    for (const c of changes) {
      c.status = 'MERGED';
      c.submitted = this.stamp(at);
      c.submissionId = submissionId;
    }
    return [this.refUpdated(project, branch, old, tip), ...changes.map((c) => this.changeMerged(c, tip))];
  }

  /** The ref-updated event, as stream-events documents it. */
  refUpdated(project: string, branch: string, oldRev: string, newRev: string): GerritEvent {
    return {
      type: 'ref-updated',
      submitter: { name: DEV.name, email: DEV.email, username: DEV.username },
      refUpdate: { oldRev, newRev, refName: `refs/heads/${branch}`, project },
      eventCreatedOn: this.tick(),
    };
  }

  /** The change attribute of stream events. */
  changeAttribute(c: FakeChange): NonNullable<GerritEvent['change']> {
    return {
      project: c.project,
      branch: c.branch,
      id: c.changeId,
      number: c.number,
      subject: c.subject,
      owner: { name: c.owner.name, email: c.owner.email, username: c.owner.username },
      url: `${this.url}/c/${c.project}/+/${c.number}`,
      commitMessage: this.commits.get(this.revision(c.number))!.message,
      ...({ createdOn: this.clock - 100, status: c.status } as object),
    };
  }

  /** change-merged, as stream-events documents it: the merged patch set, and the branch tip as newRev. */
  changeMerged(c: FakeChange, newRev: string): GerritEvent {
    const ps = c.patchSets.at(-1)!;
    return {
      type: 'change-merged',
      change: this.changeAttribute(c),
      patchSet: {
        number: ps.number,
        revision: ps.revision,
        parents: this.commits.get(ps.revision)!.parents,
        ...({ ref: `refs/changes/${String(c.number).slice(-2).padStart(2, '0')}/${c.number}/${ps.number}` } as object),
      },
      submitter: { name: DEV.name, email: DEV.email, username: DEV.username },
      newRev,
      eventCreatedOn: this.tick(),
    };
  }

  /** comment-added with a review message, as stream-events documents it. */
  commentAdded(number: number, text: string, user = 'alice'): GerritEvent {
    const c = this.change(number);
    return {
      type: 'comment-added',
      change: this.changeAttribute(c),
      patchSet: { number: c.patchSets.length, revision: this.revision(number) },
      author: { name: user, username: user, email: `${user}@example.org` },
      comment: `Patch Set ${c.patchSets.length}:\n\n${text}`,
      eventCreatedOn: this.tick(),
    } as GerritEvent;
  }

  // ---- REST ----------------------------------------------------------------------------------

  private changeInfo(c: FakeChange, options: string[]) {
    const current = this.revision(c.number);
    const detailed = options.includes('DETAILED_ACCOUNTS');
    const revisions: Record<string, unknown> = {};
    const wanted = options.includes('ALL_REVISIONS')
      ? c.patchSets
      : options.includes('CURRENT_REVISION')
        ? [c.patchSets.at(-1)!]
        : [];
    for (const ps of wanted) {
      const commit = this.commits.get(ps.revision)!;
      revisions[ps.revision] = {
        _number: ps.number,
        ref: `refs/changes/${String(c.number).slice(-2).padStart(2, '0')}/${c.number}/${ps.number}`,
        ...(options.includes('CURRENT_COMMIT') && ps.revision === current
          ? {
              commit: {
                parents: commit.parents.map((p) => ({
                  commit: p,
                  subject: this.commits.get(p)?.message.split('\n')[0],
                })),
                author: commit.author,
                committer: commit.author,
                subject: commit.message.split('\n')[0],
                message: commit.message,
              },
            }
          : {}),
        ...(options.includes('CURRENT_FILES') && ps.revision === current
          ? { files: Object.fromEntries(commit.files.map((f) => [f, { lines_inserted: 1 }])) }
          : {}),
      };
    }
    return {
      id: `${encodeURIComponent(c.project)}~${c.branch}~${c.changeId}`,
      project: c.project,
      branch: c.branch,
      change_id: c.changeId,
      subject: c.subject,
      status: c.status,
      created: this.stamp(1_700_000_000),
      updated: this.stamp(this.clock),
      ...(c.submitted ? { submitted: c.submitted } : {}),
      ...(c.submissionId && !this.noSubmissionIds ? { submission_id: c.submissionId } : {}),
      _number: c.number,
      ...(c.revertOf !== undefined ? { revert_of: c.revertOf } : {}),
      owner: detailed ? c.owner : { _account_id: c.owner._account_id },
      ...(wanted.length ? { current_revision: current, revisions } : {}),
    };
  }

  private commitInfo(sha: string) {
    const c = this.commits.get(sha)!;
    return {
      commit: sha,
      parents: c.parents.map((p) => ({ commit: p, subject: this.commits.get(p)?.message.split('\n')[0] })),
      author: c.author,
      committer: c.author,
      subject: c.message.split('\n')[0],
      message: c.message,
    };
  }

  private query(q: string): FakeChange[] {
    const all = [...this.changes.values()];
    const commit = /^commit:([0-9a-f]+)$/.exec(q);
    if (commit) return all.filter((c) => c.patchSets.some((ps) => ps.revision.startsWith(commit[1]!)));
    const change = /^change:(I[0-9a-f]+)$/.exec(q);
    if (change) return all.filter((c) => c.changeId === change[1]);
    const revertOf = /^revertof:(\d+)$/.exec(q);
    if (revertOf) return all.filter((c) => c.revertOf === Number(revertOf[1]));
    const sub = /^submissionid:(\S+)$/.exec(q);
    if (sub && !this.noSubmissionIds) return all.filter((c) => c.submissionId === sub[1]);
    throw new Error(`the fake Gerrit does not know the query ${q}`);
  }

  private branchesContaining(project: string, sha: string): string[] {
    return [...this.branches.entries()]
      .filter(([key, tip]) => key.startsWith(`${project}:`) && this.contains(tip, sha))
      .map(([key]) => key.slice(project.length + 1));
  }

  private accountByName(name: string): GerritAccount | undefined {
    if (name === 'self' || name === SERVICE.username) return SERVICE;
    return { name, username: name, email: `${name}@example.org`, _account_id: 1_000_100 + name.length };
  }

  /** Answers one REST request; [status, body]. */
  answer(method: string, path: string, body: unknown): [number, string] {
    const url = new URL(path, this.url);
    this.calls.push(`${method} ${url.pathname}${url.search}`);
    const p = url.pathname.replace(/^\/a\//, '/');
    const options = url.searchParams.getAll('o');
    const json = (v: unknown): [number, string] => [200, `${XSSI}${JSON.stringify(v)}`];
    const notFound: [number, string] = [404, 'Not found'];
    let m: RegExpExecArray | null;
    if (method === 'GET' && p === '/changes/') {
      return json(this.query(url.searchParams.get('q') ?? '').map((c) => this.changeInfo(c, options)));
    }
    if ((m = /^\/changes\/([^/]+)~(\d+)$/.exec(p)) && method === 'GET') {
      const c = this.changes.get(Number(m[2]));
      return c && c.project === decodeURIComponent(m[1]!) ? json(this.changeInfo(c, options)) : notFound;
    }
    if ((m = /^\/changes\/([^/]+)~(\d+)\/messages$/.exec(p)) && method === 'GET') {
      const [project, number] = [decodeURIComponent(m[1]!), Number(m[2])];
      const posted = this.reviews.filter((r) => r.project === project && r.number === number);
      return json(posted.map((r, i) => ({ id: `m${i}`, tag: r.body.tag, message: r.body.message })));
    }
    if ((m = /^\/changes\/([^/]+)~(\d+)\/revisions\/([^/]+)\/review$/.exec(p)) && method === 'POST') {
      const [project, number, revision] = [decodeURIComponent(m[1]!), Number(m[2]), decodeURIComponent(m[3]!)];
      const c = this.changes.get(number);
      // Gerrit answers 404 for a revision that is none of the change's patch sets
      if (!c || (revision !== 'current' && !c.patchSets.some((ps) => ps.revision === revision))) return notFound;
      this.reviews.push({ project, number, revision, body: body as Review['body'] });
      return json({});
    }
    if ((m = /^\/changes\/([^/]+)~(\d+)\/(revert|submit)$/.exec(p)) && method === 'POST') {
      const c = this.changes.get(Number(m[2]));
      if (!c || c.project !== decodeURIComponent(m[1]!)) return notFound;
      return m[3] === 'revert' ? this.revertRest(c, body as { message?: string }) : this.submitRest(c);
    }
    if ((m = /^\/changes\/([^/]+)~(\d+)\/revisions\/([^/]+)\/files\/?$/.exec(p)) && method === 'GET') {
      const c = this.changes.get(Number(m[2]));
      if (!c) return notFound;
      return json(
        Object.fromEntries([['/COMMIT_MSG', { status: 'A' }], ...c.files.map((f) => [f, { lines_inserted: 1 }])]),
      );
    }
    if ((m = /^\/projects\/([^/]+)\/commits\/([0-9a-f]+)(\/in|\/files\/)?$/.exec(p)) && method === 'GET') {
      const [project, sha, what] = [decodeURIComponent(m[1]!), m[2]!, m[3]];
      if (!this.commits.has(sha) || this.branchesContaining(project, sha).length === 0) return notFound;
      if (what === '/in') return json({ branches: this.branchesContaining(project, sha), tags: [] });
      if (what === '/files/') {
        const c = this.commits.get(sha)!;
        return json(
          Object.fromEntries([['/COMMIT_MSG', { status: 'A' }], ...c.files.map((f) => [f, { lines_inserted: 1 }])]),
        );
      }
      return json(this.commitInfo(sha));
    }
    if ((m = /^\/projects\/([^/]+)\/branches\/([^/]+)\/files\/([^/]+)\/content$/.exec(p)) && method === 'GET') {
      const [project, file] = [decodeURIComponent(m[1]!), decodeURIComponent(m[3]!)];
      const text = file === '.ost-gate.yml' ? this.configFor(project) : null;
      return text === null ? notFound : [200, Buffer.from(text).toString('base64')];
    }
    if ((m = /^\/groups\/([^/]+)\/members\/$/.exec(p)) && method === 'GET') {
      const group = this.groups[decodeURIComponent(m[1]!)];
      if (!group) return notFound;
      if (group === 'external') return [405, 'Method Not Allowed'];
      const seesAll = group.visibleToAll || this.serviceIsAdmin || group.owners?.includes(SERVICE.username);
      return json(seesAll ? group.members : group.members.filter((a) => a.username === SERVICE.username));
    }
    if ((m = /^\/accounts\/([^/]+)\/groups$/.exec(p)) && method === 'GET') {
      const account = decodeURIComponent(m[1]!);
      const names = this.accountGroups[account] ?? [];
      const visible = names.filter((name) => {
        const g = this.groups[name];
        if (!g) return false;
        if (g === 'external') return this.serviceIsAdmin;
        return g.visibleToAll || this.serviceIsAdmin || g.owners?.includes(SERVICE.username);
      });
      return json(visible.map((name, i) => ({ id: `uuid-${i}-${name.replace(/\W/g, '')}`, name })));
    }
    if (p === '/accounts/self/capabilities' && method === 'GET') {
      return json(this.serviceIsAdmin ? { administrateServer: true } : {});
    }
    if ((m = /^\/accounts\/([^/]+)$/.exec(p)) && method === 'GET') {
      const a = this.accountByName(decodeURIComponent(m[1]!));
      return a ? json(a) : notFound;
    }
    return [404, `the fake Gerrit has no ${method} ${p}`];
  }

  /**
   * POST /changes/{id}/revert as Gerrit answers it: 403 without the Revert right, 409 for a change
   * that is not merged, else the new revert change (owned by the service user, `revert_of` set).
   */
  private revertRest(c: FakeChange, input: { message?: string }): [number, string] {
    if (!this.rights.revert) return [403, 'revert not permitted'];
    if (c.status !== 'MERGED') return [409, `change is ${c.status.toLowerCase()}`];
    const reverted = this.revision(c.number);
    const message = input.message ?? `Revert "${c.subject}"\n\nThis reverts commit ${reverted}.\n`;
    const [subject, ...body] = message.split('\n');
    const revert = this.upload(c.project, { branch: c.branch, subject: subject!, body: body.join('\n').trim() });
    revert.owner = SERVICE;
    revert.revertOf = c.number;
    return [200, `${XSSI}${JSON.stringify(this.changeInfo(revert, []))}`];
  }

  /** POST /changes/{id}/submit: 403 without the Submit right, 409 unless open, else merged (events kept). */
  private submitRest(c: FakeChange): [number, string] {
    if (!this.rights.submit) return [403, 'submit not permitted'];
    if (c.status !== 'NEW') return [409, `change is ${c.status.toLowerCase()}`];
    this.restEvents.push(...this.submit([c]));
    return [200, `${XSSI}${JSON.stringify(this.changeInfo(c, []))}`];
  }

  /** Serves the REST API through nock until the test's interceptors are cleared. */
  install(): nock.Scope {
    const scope = nock(this.url).persist();
    scope.get(/.*/).reply(async (uri) => {
      await this.delay?.('GET', uri);
      return this.answer('GET', uri, undefined);
    });
    scope.post(/.*/).reply(async (uri, body) => {
      await this.delay?.('POST', uri);
      return this.answer('POST', uri, body);
    });
    return scope;
  }
}
