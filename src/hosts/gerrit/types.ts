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
  revisions?: Record<string, { _number: number; commit?: { message?: string; parents?: { commit: string }[] } }>;
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
  eventCreatedOn?: number;
}
