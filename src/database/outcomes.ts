import type { Outcome } from '../ownership';
import type { Database } from './client';

export async function saveOutcomes(db: Database, robloxUserId: string, outcomes: ReadonlyMap<string, Outcome>, at: Date): Promise<void> {
  if (outcomes.size === 0) return;
  await db.$transaction(
    [...outcomes].map(([key, outcome]) => {
      const [kind = '', itemId = ''] = key.split(':');
      const data = { status: outcome.status, reason: outcome.status === 'unknown' ? outcome.reason : null, checkedAt: at };
      return db.outcome.upsert({
        where: { robloxUserId_kind_itemId: { robloxUserId, kind, itemId } },
        create: { robloxUserId, kind, itemId, ...data },
        update: data,
      });
    }),
  );
}

export interface StoredOutcome {
  outcome: Outcome;
  checkedAt: Date;
}

export async function loadOutcomes(db: Database, robloxUserId: string): Promise<Map<string, StoredOutcome>> {
  const rows = await db.outcome.findMany({ where: { robloxUserId } });
  return new Map(
    rows.map((row) => {
      const outcome: Outcome =
        row.status === 'owns' || row.status === 'not_owned' ? { status: row.status } : { status: 'unknown', reason: row.reason ?? 'unknown' };
      return [`${row.kind}:${row.itemId}`, { outcome, checkedAt: row.checkedAt }];
    }),
  );
}
