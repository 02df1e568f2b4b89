// What follows a new link, however it was proven (a profile code, or Sign in with Roblox): the log
// lines, the previous holder of a moved account losing its roles, and the member's own roles now.

import type { ServerLog } from './discord/serverlog';
import type { Logger } from './log';
import { describeLink } from './reports';
import type { MemberResult, MemberSync } from './sync/members';

export interface NewLink {
  discordUserId: string;
  /** Where the proof was started: the member is in it, and it hears about the link. */
  guildId: string;
  robloxUserId: string;
  robloxUsername: string;
  /** How it was proven, as the log channel says it: "a profile code", "Sign in with Roblox". */
  proof: string;
  /** The Discord user the account moved from, if it did. */
  previousHolder?: string;
}

export async function onLinked(deps: { log: Logger; serverLog: ServerLog; sync: MemberSync }, link: NewLink): Promise<MemberResult> {
  deps.log.info({ discordUserId: link.discordUserId, robloxUserId: link.robloxUserId, movedFrom: link.previousHolder, proof: link.proof }, 'account linked');
  await deps.serverLog.post(link.guildId, [describeLink(link.discordUserId, link.robloxUsername, link.robloxUserId, link.proof, link.previousHolder)]);
  if (link.previousHolder) {
    // The account moved: its previous holder loses bound roles now (or at the next run if this fails).
    deps.sync.one(link.previousHolder).catch((error: unknown) => deps.log.error({ err: error }, 'sync of the previous link holder failed'));
  }
  return deps.sync.one(link.discordUserId, { priority: true, alsoIn: link.guildId });
}
