import type { Database } from './client';

type Tx = Pick<Database, 'link' | 'oAuthGrant'>;

export type LinkMethod = 'profile' | 'oauth';

/**
 * Writes a proven link, inside the caller's transaction. A Roblox account has one holder: proving it
 * moves it, and the previous holder (returned) loses the link and any consent given for it. A consent
 * for a different account than the one now linked is dropped too.
 */
export async function saveLink(tx: Tx, link: { discordUserId: string; robloxUserId: string; robloxUsername: string; method: LinkMethod; at: Date }): Promise<string | undefined> {
  const previous = await tx.link.findFirst({ where: { robloxUserId: link.robloxUserId, NOT: { discordUserId: link.discordUserId } } });
  if (previous) {
    await tx.link.delete({ where: { discordUserId: previous.discordUserId } });
    await tx.oAuthGrant.deleteMany({ where: { discordUserId: previous.discordUserId } });
  }
  await tx.oAuthGrant.deleteMany({ where: { discordUserId: link.discordUserId, NOT: { robloxUserId: link.robloxUserId } } });
  const data = { robloxUserId: link.robloxUserId, robloxUsername: link.robloxUsername, method: link.method, linkedAt: link.at, checkedAt: null };
  await tx.link.upsert({ where: { discordUserId: link.discordUserId }, create: { discordUserId: link.discordUserId, ...data }, update: data });
  return previous?.discordUserId;
}
