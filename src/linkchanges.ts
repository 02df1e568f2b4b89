// Every change of who holds a Roblox account (a proof, an unlink) runs here, holding the lock of each
// Discord member it affects, the lock their checks hold (src/sync/members.ts): a check in flight
// finishes with the link it read before the link changes, so no role is given for an account its
// member has let go. A move affects the account's previous holder too, known only from the
// database: read before the locks are taken, and read again inside them in case another proof took
// the account meanwhile. What follows a change (re-checking the members) runs after the locks are let go.

import { type Database, isUniqueViolation } from './database/client';
import { deleteLink, holderOf, type ProvenLink, saveLink } from './database/links';
import type { Prisma } from './generated/prisma/client';
import type { MemberSync } from './sync/members';

export interface LinkChanges {
  /**
   * Stores a proven link, moving the account from its previous holder (returned). `first` runs in
   * the same transaction before the write; when it answers false nothing is stored (a code already spent).
   */
  save(link: ProvenLink, first?: (tx: Prisma.TransactionClient) => Promise<boolean>): Promise<{ saved: boolean; previousHolder?: string }>;
  /** Deletes the member's link, their pending proof and the account's outcomes; the link deleted, if any. */
  remove(discordUserId: string): Promise<{ robloxUserId: string; robloxUsername: string } | undefined>;
}

export function createLinkChanges(deps: { db: Database; sync: Pick<MemberSync, 'exclusive'> }): LinkChanges {
  const { db, sync } = deps;
  return {
    async save(link, first) {
      for (;;) {
        const holder = await holderOf(db, link.robloxUserId);
        const done = await sync
          .exclusive([link.discordUserId, ...(holder ? [holder] : [])], () =>
            db.$transaction(async (tx) => {
              // Someone else proved it while the locks were awaited: their lock is not held, start again.
              if ((await holderOf(tx, link.robloxUserId)) !== holder) return undefined;
              if (first && !(await first(tx))) return { saved: false };
              return { saved: true, previousHolder: await saveLink(tx, link) };
            }),
          )
          .catch((error: unknown) => {
            // Another proof stored the account after this one read "no holder" (PostgreSQL lets both
            // transactions read it; SQLite runs them one after the other): everything here was rolled
            // back; start again, now with that holder's lock.
            if (isUniqueViolation(error)) return undefined;
            throw error;
          });
        if (done) return done;
      }
    },
    remove: (discordUserId) => sync.exclusive([discordUserId], () => db.$transaction((tx) => deleteLink(tx, discordUserId))),
  };
}
