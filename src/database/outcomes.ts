// Outcomes are the bulk of the database (an account times every bound item), read and written for a
// hundred accounts at a time by the sync. Those two paths hand the database one JSON parameter instead of
// thousands of rows through Prisma's row mapping, which cost 20 times as much.

import { Prisma } from '../generated/prisma/client';
import type { Outcome, Rank, Tally } from '../ownership';
import { among, type Database, isPostgres, rowsOf, timestamp } from './client';

/** An item's outcome, (kind "collectibles", keyed by asset types) a collectible tally, or (kind "group", keyed by group id) a group rank. */
export type Answer = Outcome | Tally | Rank;

const TALLY_PREFIX = 'collectibles:';
const RANK_PREFIX = 'group:';

/** Outcomes, tallies and ranks as stored together: tallies under `collectibles:<asset types>`, ranks under `group:<group id>`. */
export function joinAnswers(outcomes: ReadonlyMap<string, Outcome>, tallies: ReadonlyMap<string, Tally>, ranks: ReadonlyMap<string, Rank> = new Map()): Map<string, Answer> {
  return new Map<string, Answer>([
    ...outcomes,
    ...[...tallies].map(([key, tally]) => [TALLY_PREFIX + key, tally] as const),
    ...[...ranks].map(([groupId, rank]) => [RANK_PREFIX + groupId, rank] as const),
  ]);
}

export function splitAnswers(answers: Iterable<[string, Answer]>): { outcomes: Map<string, Outcome>; tallies: Map<string, Tally>; ranks: Map<string, Rank> } {
  const outcomes = new Map<string, Outcome>();
  const tallies = new Map<string, Tally>();
  const ranks = new Map<string, Rank>();
  for (const [key, answer] of answers) {
    if (key.startsWith(TALLY_PREFIX)) {
      if (answer.status === 'counted' || answer.status === 'unknown') tallies.set(key.slice(TALLY_PREFIX.length), answer);
    } else if (key.startsWith(RANK_PREFIX)) {
      if (answer.status === 'ranked' || answer.status === 'unknown') ranks.set(key.slice(RANK_PREFIX.length), answer);
    } else if (answer.status !== 'counted' && answer.status !== 'ranked') outcomes.set(key, answer);
  }
  return { outcomes, tallies, ranks };
}

export interface StoredOutcome {
  outcome: Answer;
  since: Date;
}

type Row = [kind: string, itemId: string, status: string, reason: string | null, since: string, count: number | null];

/** Stored outcomes of several Roblox accounts: account id → item key → outcome. */
export async function loadOutcomes(db: Database, robloxUserIds: readonly string[]): Promise<Map<string, Map<string, StoredOutcome>>> {
  const byAccount = new Map<string, Map<string, StoredOutcome>>(robloxUserIds.map((id) => [id, new Map()]));
  if (robloxUserIds.length === 0) return byAccount;
  // PostgreSQL's timestamps carry no zone; Prisma writes them in UTC, so they are read back as UTC.
  const grouped = isPostgres(db)
    ? Prisma.sql`json_agg(json_build_array("kind", "itemId", "status", "reason", "since" AT TIME ZONE 'UTC', "count"))::text`
    : Prisma.sql`json_group_array(json_array("kind", "itemId", "status", "reason", "since", "count"))`;
  const accounts = await db.$queryRaw<{ robloxUserId: string; outcomes: string }[]>`
    SELECT "robloxUserId", ${grouped} AS "outcomes"
    FROM "Outcome" WHERE ${among(db, 'robloxUserId', robloxUserIds)}
    GROUP BY "robloxUserId"`;
  for (const { robloxUserId, outcomes } of accounts) {
    const stored = byAccount.get(robloxUserId);
    for (const [kind, itemId, status, reason, since, count] of JSON.parse(outcomes) as Row[]) {
      stored?.set(`${kind}:${itemId}`, { outcome: answerOf(status, reason, count), since: new Date(since) });
    }
  }
  return byAccount;
}

function answerOf(status: string, reason: string | null, count: number | null): Answer {
  if (status === 'owns' || status === 'not_owned') return { status };
  if ((status === 'counted' || status === 'at_least') && count !== null) return { status: 'counted', count, complete: status === 'counted' };
  if (status === 'ranked' && count !== null) return { status: 'ranked', rank: count };
  return { status: 'unknown', reason: reason ?? 'unknown' };
}

const reasonOf = (a: Answer) => (a.status === 'unknown' ? a.reason : null);
const countOf = (a: Answer) => (a.status === 'counted' ? a.count : a.status === 'ranked' ? a.rank : null);
const storedStatus = (a: Answer) => (a.status === 'counted' && !a.complete ? 'at_least' : a.status);
const same = (a: Answer, b: Answer) => storedStatus(a) === storedStatus(b) && reasonOf(a) === reasonOf(b) && countOf(a) === countOf(b);

/** Writes the outcomes that are new or differ from `previous`; unchanged ones cost nothing. */
export async function saveOutcomeChanges(
  tx: Prisma.TransactionClient,
  checked: readonly { robloxUserId: string; outcomes: ReadonlyMap<string, Answer> }[],
  previous: ReadonlyMap<string, ReadonlyMap<string, StoredOutcome>>,
  now: Date,
): Promise<void> {
  const changed: [robloxUserId: string, kind: string, itemId: string, status: string, reason: string | null, count: number | null][] = [];
  for (const { robloxUserId, outcomes } of checked) {
    for (const [key, outcome] of outcomes) {
      const before = previous.get(robloxUserId)?.get(key);
      if (before && same(before.outcome, outcome)) continue;
      const [kind = '', itemId = ''] = key.split(':');
      changed.push([robloxUserId, kind, itemId, storedStatus(outcome), reasonOf(outcome), countOf(outcome)]);
    }
  }
  if (changed.length === 0) return;
  // `now` is its own parameter, so Prisma's adapter writes it as it writes every DateTime. "WHERE
  // true" is how SQLite tells an upsert's ON CONFLICT from a join's ON.
  await tx.$executeRaw`
    INSERT INTO "Outcome" ("robloxUserId", "kind", "itemId", "status", "reason", "count", "since")
    SELECT value->>0, value->>1, value->>2, value->>3, value->>4, CAST(value->>5 AS INTEGER), ${timestamp(tx, now)} FROM ${rowsOf(tx, changed)} WHERE true
    ON CONFLICT ("robloxUserId", "kind", "itemId") DO UPDATE SET "status" = excluded."status", "reason" = excluded."reason", "count" = excluded."count", "since" = excluded."since"`;
}
