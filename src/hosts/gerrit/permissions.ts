// Who may run write and admin commands on Gerrit: a member of a group that `commands.permission`
// names (Administrators by default); `retry` also the change's owner. Membership is read two ways:
// - the commenter's own groups (GET /accounts/{user}/groups), which include external groups (LDAP
//   and the like) when the service user has Administrate Server, and Gerrit's own groups it may see;
// - the members of each of Gerrit's own groups (GET /groups/{group}/members/), which Gerrit lists in
//   full only to the group's owners, Administrate Server, or when the group is visible to all.
// A refusal that may come from what the service user cannot see says so, and how to fix it.
import type { Verb } from '../../commands/parse.ts';
import type { RepoConfig } from '../../config/repo.ts';
import type { Logger } from '../../log.ts';
import type { GerritClient } from './client.ts';
import { gerritSettings } from './config.ts';
import type { GerritAccount, GerritGroupInfo } from './types.ts';

export type Permission = { ok: true } | { ok: false; needs: string };

const VISIBLE_FIX =
  'in Gerrit, tick "Make group visible to all registered users" on it, or make the service user a member of its owner group';
const EXTERNAL_FIX =
  'Gerrit tells the members of an external group only to a user with the Administrate Server capability: ' +
  'grant it to the service user, or name in commands.permission a Gerrit group that is visible to all ' +
  'registered users and includes the external one';

export class GerritPermissions {
  constructor(
    private readonly client: GerritClient,
    private readonly serviceUser: string | undefined,
    private readonly log: Logger,
  ) {}

  async allowed(verb: Verb, user: string, owner: string | undefined, config: RepoConfig | null): Promise<Permission> {
    const { groups } = gerritSettings(config);
    const needs = `membership in ${groups.join(' or ')}${verb === 'retry' ? ', or owning the change' : ''}; ${user} is not`;
    if (verb === 'retry' && owner && owner === user) return { ok: true };
    const unseen: string[] = [];
    const external: string[] = [];
    try {
      const own = await this.client.accountGroups(user);
      if (own && groups.some((g) => own.some((info) => isGroup(info, g)))) return { ok: true };
      for (const group of groups) {
        const members = await this.client.groupMembers(group);
        if (members === 'external') external.push(group);
        else if (members === null || this.seesOnlyItself(members)) unseen.push(group);
        else if (members.some((m) => isAccount(m, user))) return { ok: true };
      }
      if (external.length && (await this.client.administratesServer())) external.length = 0;
    } catch (err) {
      this.log.warn({ user, err: (err as Error).message }, 'could not read group membership; refusing the command');
      return { ok: false, needs };
    }
    const hints: string[] = [];
    if (unseen.length) {
      hints.push(`it cannot see all the members of ${unseen.join(', ')}: ${VISIBLE_FIX}`);
      this.log.warn(
        { groups: unseen },
        `the service user cannot see the members of ${unseen.join(', ')}; ${VISIBLE_FIX}`,
      );
    }
    if (external.length) {
      hints.push(
        `${external.join(', ')} ${external.length > 1 ? 'are external groups' : 'is an external group'}: ${EXTERNAL_FIX}`,
      );
      this.log.warn(
        { groups: external },
        `cannot check membership of the external group(s) ${external.join(', ')}; ${EXTERNAL_FIX}`,
      );
    }
    if (hints.length === 0) return { ok: false, needs };
    return { ok: false, needs: `${needs} a member of a group ost-gate can see (${hints.join('; ')})` };
  }

  /**
   * A member list holding nobody but the service user: what Gerrit answers a member of a group that
   * is not visible to all and that it does not own. The group may well have other members.
   */
  private seesOnlyItself(members: GerritAccount[]): boolean {
    return (
      members.length === 0 || (members.length === 1 && !!this.serviceUser && isAccount(members[0]!, this.serviceUser))
    );
  }
}

/** Whether a group of the commenter's is the one named (by name, UUID or number). */
function isGroup(info: GerritGroupInfo, name: string): boolean {
  return (
    info.name === name ||
    (info.id !== undefined && decodeURIComponent(info.id) === name) ||
    String(info.group_id) === name
  );
}

/** Whether a group member is the commenter, named as accountName names them. */
function isAccount(member: GerritAccount, user: string): boolean {
  return (
    member.username === user || member.email === user || member.name === user || String(member._account_id) === user
  );
}
