import type { Prisma } from '../generated/prisma/client';
import type { Outcome } from '../ownership';
import type { Database } from './client';

export interface StoredOutcome {
  outcome: Outcome;
  since: Date;
}

/** Stored outcomes of several Roblox accounts: account id → item key → outcome. */
export async function loadOutcomes(db: Database, robloxUserIds: readonly string[]): Promise<Map<string, Map<string, StoredOutcome>>> {
  const byAccount = new Map<string, Map<string, StoredOutcome>>(robloxUserIds.map((id) => [id, new Map()]));
  if (robloxUserIds.length === 0) return byAccount;
  for (const row of await db.outcome.findMany({ where: { robloxUserId: { in: [...robloxUserIds] } } })) {
    const outcome: Outcome = row.status === 'owns' || row.status === 'not_owned' ? { status: row.status } : { status: 'unknown', reason: row.reason ?? 'unknown' };
    byAccount.get(row.robloxUserId)?.set(`${row.kind}:${row.itemId}`, { outcome, since: row.since });
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
  const created: Prisma.OutcomeCreateManyInput[] = [];
  for (const { robloxUserId, outcomes } of checked) {
    for (const [key, outcome] of outcomes) {
      const [kind = '', itemId = ''] = key.split(':');
      const data = { status: outcome.status, reason: outcome.status === 'unknown' ? outcome.reason : null, since: now };
      const before = previous.get(robloxUserId)?.get(key);
      if (!before) created.push({ robloxUserId, kind, itemId, ...data });
      else if (!same(before.outcome, outcome)) await tx.outcome.update({ where: { robloxUserId_kind_itemId: { robloxUserId, kind, itemId } }, data });
    }
  }
  if (created.length > 0) await tx.outcome.createMany({ data: created });
}
