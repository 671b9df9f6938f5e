// Shapes of Gerrit's REST answers and stream events that ost-gate reads (old and new field styles).

export interface GerritAccount {
  name?: string;
  email?: string;
  username?: string;
  _account_id?: number;
}

export interface GerritChangeInfo {
  id: string;
  project: string;
  branch: string;
  change_id: string;
  subject: string;
  status: string;
  _number: number;
  owner: GerritAccount;
  current_revision?: string;
  revisions?: Record<
    string,
    {
      _number: number;
      /** The ref the patch set can be fetched from: `refs/changes/34/1234/2`. */
      ref?: string;
      /** The revision's commit (CURRENT_COMMIT): the commit info without its own sha. */
      commit?: Partial<Omit<GerritCommitInfo, 'commit'>>;
      /** The files the revision touches (the CURRENT_FILES option). */
      files?: Record<string, unknown>;
    }
  >;
  /** When it was submitted (merged changes): every change of one submission has the same. */
  submitted?: string;
  /** The submission it merged in (Gerrit 3.2 and later, merged changes only). */
  submission_id?: string;
  /** Its hashtags (`ost-priority` lets it jump the line). */
  hashtags?: string[];
  /** The number of the change it reverts (Gerrit 2.15 and later). */
  revert_of?: number;
}

/** A commit as `GET /projects/{project}/commits/{commit}` describes it. */
export interface GerritCommitInfo {
  commit: string;
  parents: { commit: string; subject?: string }[];
  author?: { name?: string; email?: string; date?: string };
  committer?: { name?: string; email?: string; date?: string };
  subject: string;
  message: string;
  web_links?: { name?: string; url: string }[];
}

/** A group as `GET /accounts/{account}/groups` lists it. */
export interface GerritGroupInfo {
  id?: string;
  name?: string;
  group_id?: number;
}

export interface GerritMessage {
  id: string;
  tag?: string;
  message: string;
}

/** The `change` attribute of stream events. `number` is an int in new Gerrit, a string in old. */
export interface EventChange {
  project: string;
  branch: string;
  id?: string;
  number: number | string;
  subject?: string;
  owner?: GerritAccount;
  url?: string;
  commitMessage?: string;
  /** NEW, MERGED or ABANDONED. */
  status?: string;
}

export interface EventPatchSet {
  number?: number | string;
  revision?: string;
  parents?: string[];
}

export interface GerritEvent {
  type: string;
  change?: EventChange;
  patchSet?: EventPatchSet;
  newRev?: string;
  refUpdate?: { oldRev?: string; newRev?: string; refName?: string; project?: string };
  author?: GerritAccount;
  submitter?: GerritAccount;
  comment?: string;
  /** hashtags-changed: who changed them, and the hashtags added. */
  editor?: GerritAccount;
  added?: string[];
  eventCreatedOn?: number;
}

/** Where a command's reply goes: the change the comment was on. */
export interface GerritReplyTarget {
  project: string;
  number: number;
}
