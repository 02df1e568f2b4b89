// Step 2 of a re-check: the member's roles in the servers they are in. Only servers the membership
// index names are asked (plus, for a command or a join, the server it came from), and what a read
// finds corrects the index: a member read as absent leaves it, one found present enters it.

import type { Bind } from '../bindings';
import type { Clock } from '../clock';
import type { Database } from '../database/client';
import { markAbsent, markPresent } from '../database/memberships';
import type { MemberRead, MemberState, Server, ServerLookup } from '../discord/servers';
import type { NicknameSetting } from '../database/settings';
import type { Logger } from '../log';
import type { ServerResult } from './results';

export interface PresentIn {
  server: Server;
  binds: Bind[];
  /** The server's unverified role, if it has one. */
  unverifiedRoleId?: string;
  nickname?: NicknameSetting;
  roles: Set<string>;
  /** The member as read there (roles, nickname, standing against the bot). */
  state: MemberState;
  result: ServerResult;
}

/** Members read in bulk for a batch: server → member → state. A member missing from a server's map is absent. */
export type KnownRoles = ReadonlyMap<string, ReadonlyMap<string, MemberState>>;

interface PresenceDeps {
  db: Database;
  discord: ServerLookup;
  log: Logger;
  clock: Clock;
}

/** What the sync keeps right in each server: its binds, its unverified role and nicknames. */
export interface ServerRules {
  binds: ReadonlyMap<string, Bind[]>;
  unverified: ReadonlyMap<string, string>;
  nicknames: ReadonlyMap<string, NicknameSetting>;
}

/** Reads the member in each of `guildIds` (servers with binds or an unverified role); one read per server at most. */
export async function rolesInServers(
  deps: PresenceDeps,
  discordUserId: string,
  guildIds: readonly string[],
  rules: ServerRules,
  known: KnownRoles,
  indexed: ReadonlySet<string>,
): Promise<{ present: PresentIn[]; servers: ServerResult[] }> {
  const present: PresentIn[] = [];
  const servers: ServerResult[] = [];
  for (const guildId of guildIds) {
    const server = deps.discord.server(guildId);
    const binds = rules.binds.get(guildId) ?? [];
    const unverifiedRoleId = rules.unverified.get(guildId);
    const nickname = rules.nicknames.get(guildId);
    if (!server || (binds.length === 0 && !unverifiedRoleId && !nickname)) continue;
    const result: ServerResult = { guildId, serverName: server.name, present: true, added: [], removed: [], problems: [] };
    servers.push(result);
    const bulk = known.get(guildId);
    const member = bulk ? fromBulk(bulk, discordUserId) : await server.readMember(discordUserId);
    if (member.kind === 'absent') {
      result.present = false;
      if (!bulk && indexed.has(guildId)) await markAbsent(deps.db, guildId, [discordUserId]);
    } else if (member.kind === 'error') {
      result.problems.push(`could not read the member: ${member.detail}`);
    } else {
      if (!indexed.has(guildId)) await markPresent(deps.db, guildId, [discordUserId], new Date(deps.clock.now()));
      present.push({ server, binds, unverifiedRoleId, nickname, roles: member.roles, state: member, result });
    }
  }
  return { present, servers };
}

function fromBulk(bulk: ReadonlyMap<string, MemberState>, discordUserId: string): MemberRead {
  const state = bulk.get(discordUserId);
  return state ? { kind: 'member', ...state } : { kind: 'absent' };
}

/**
 * Servers holding at least this many of a batch's members are read with one gateway request; the
 * others member by member over REST. Discord lets a bot send 120 gateway messages a minute but 50
 * REST requests a second, so a gateway request pays only when it replaces many REST reads; either
 * way a member is read at most once per server, so reads per cycle never exceed memberships.
 */
export const GATEWAY_MIN = 10;

/**
 * A batch's roles, read in bulk where the index places enough of its members in one server: one
 * gateway request per such server. A server whose read fails is left out, and its members are then
 * read one by one.
 */
export async function readBatchRoles(deps: PresenceDeps, membersByServer: ReadonlyMap<string, string[]>): Promise<Map<string, Map<string, MemberState>>> {
  const known = new Map<string, Map<string, MemberState>>();
  for (const [guildId, ids] of membersByServer) {
    const server = deps.discord.server(guildId);
    if (!server || ids.length < GATEWAY_MIN) continue;
    try {
      const roles = await server.readMembers(ids);
      known.set(guildId, roles);
      await markAbsent(deps.db, guildId, ids.filter((id) => !roles.has(id)));
    } catch (error) {
      deps.log.warn({ err: error, guildId }, 'bulk member read failed; reading members one by one');
    }
  }
  return known;
}
