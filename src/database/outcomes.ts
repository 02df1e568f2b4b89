// Outcomes are the bulk of the database (an account times every bound item), read and written for a
// hundred accounts at a time by the sync. Those two paths hand SQLite one JSON parameter instead of
// thousands of rows through Prisma's row mapping, which cost 20 times as much.

import type { Prisma } from '../generated/prisma/client';
import type { Outcome } from '../ownership';
import { among, type Database } from './client';

export interface StoredOutcome {
  outcome: Outcome;
  since: Date;
}

type Row = [kind: string, itemId: string, status: string, reason: string | null, since: string];

/** Stored outcomes of several Roblox accounts: account id → item key → outcome. */
export async function loadOutcomes(db: Database, robloxUserIds: readonly string[]): Promise<Map<string, Map<string, StoredOutcome>>> {
  const byAccount = new Map<string, Map<string, StoredOutcome>>(robloxUserIds.map((id) => [id, new Map()]));
  if (robloxUserIds.length === 0) return byAccount;
  const accounts = await db.$queryRaw<{ robloxUserId: string; outcomes: string }[]>`
    SELECT "robloxUserId", json_group_array(json_array("kind", "itemId", "status", "reason", "since")) AS "outcomes"
    FROM "Outcome" WHERE ${among('robloxUserId', robloxUserIds)}
    GROUP BY "robloxUserId"`;
  for (const { robloxUserId, outcomes } of accounts) {
    const stored = byAccount.get(robloxUserId);
    for (const [kind, itemId, status, reason, since] of JSON.parse(outcomes) as Row[]) {
      const outcome: Outcome = status === 'owns' || status === 'not_owned' ? { status } : { status: 'unknown', reason: reason ?? 'unknown' };
      stored?.set(`${kind}:${itemId}`, { outcome, since: new Date(since) });
    }
  }
  return byAccount;
}

const same = (a: Outcome, b: Outcome) => a.status === b.status && (a.status !== 'unknown' || b.status !== 'unknown' || a.reason === b.reason);

/** Writes the outcomes that are new or differ from `previous`; unchanged ones cost nothing. */
export async function saveOutcomeChanges(
  tx: Prisma.TransactionClient,
  checked: readonly { robloxUserId: string; outcomes: ReadonlyMap<string, Outcome> }[],
  previous: ReadonlyMap<string, ReadonlyMap<string, StoredOutcome>>,
  now: Date,
): Promise<void> {
  const changed: [robloxUserId: string, kind: string, itemId: string, status: string, reason: string | null][] = [];
  for (const { robloxUserId, outcomes } of checked) {
    for (const [key, outcome] of outcomes) {
      const before = previous.get(robloxUserId)?.get(key);
      if (before && same(before.outcome, outcome)) continue;
      const [kind = '', itemId = ''] = key.split(':');
      changed.push([robloxUserId, kind, itemId, outcome.status, outcome.status === 'unknown' ? outcome.reason : null]);
    }
  }
  if (changed.length === 0) return;
  // `now` is its own parameter, so Prisma's adapter writes it as it writes every DateTime. "WHERE
  // true" is how SQLite tells an upsert's ON CONFLICT from a join's ON.
  await tx.$executeRaw`
    INSERT INTO "Outcome" ("robloxUserId", "kind", "itemId", "status", "reason", "since")
    SELECT value->>0, value->>1, value->>2, value->>3, value->>4, ${now} FROM json_each(${JSON.stringify(changed)}) WHERE true
    ON CONFLICT ("robloxUserId", "kind", "itemId") DO UPDATE SET "status" = excluded."status", "reason" = excluded."reason", "since" = excluded."since"`;
}
