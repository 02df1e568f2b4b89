// Proof that a Discord user controls a Roblox account: a random code they put in their profile's
// "About", read back through Open Cloud Get User. Only a proof ever creates or moves a link.

import { randomBytes, randomInt } from 'node:crypto';
import type { Clock } from './clock';
import type { Database } from './database/client';
import { FAILURE_REASONS } from './ownership';
import type { Verification } from './generated/prisma/client';
import type { LinkChanges } from './linkchanges';
import type { RobloxApi } from './roblox/api';
import type { Wait } from './roblox/budget';
import type { RobloxFailure } from './roblox/http';
import { getUser } from './roblox/users';

export const CODE_TTL_MS = 10 * 60 * 1000;

// Words, not digits: Roblox's text filter may hash long numbers in profiles.
const WORDS = (
  'apple amber anchor arrow autumn badge banjo beacon berry birch blossom breeze brick bubble cabin cactus candle canyon ' +
  'carpet castle cedar cherry cinder clover cobalt comet copper coral cotton crystal daisy dawn delta desert dolphin dune ' +
  'eagle ember falcon feather fern festival fjord forest fossil galaxy garden ginger glacier granite harbor harvest hazel ' +
  'helmet honey horizon island ivory jasmine jungle kettle kiwi lagoon lantern lemon lilac lotus maple marble meadow ' +
  'melon meteor mint mosaic nectar noodle oasis ocean olive orbit orchid otter paddle panda pebble pepper pine planet ' +
  'plum pocket prairie puzzle quartz quill rabbit rainbow raven reef ribbon river rocket saddle salmon satin shell silver ' +
  'sky spruce squirrel summit sunset tangerine thistle thunder tiger timber topaz trumpet tulip tundra velvet violet ' +
  'volcano walnut willow window winter zebra'
).split(' ');

export function newCode(): string {
  return ['gatepass', ...Array.from({ length: 5 }, () => WORDS[randomInt(WORDS.length)])].join(' ');
}

/** Lenient match: case, spacing and punctuation around the words do not matter. */
export function profileHasCode(about: string, code: string): boolean {
  const normalize = (text: string) => ` ${text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim()} `;
  return normalize(about).includes(normalize(code));
}

const USERNAME = /^[A-Za-z0-9_]{3,20}$/;

export type Step<T> = { ok: true; value: T } | { ok: false; error: string };

interface VerifyDeps {
  db: Database;
  roblox: RobloxApi;
  clock: Clock;
  links: LinkChanges;
}

export interface RobloxAccount {
  id: string;
  /** The current username (a lookup by a previous name answers with the current one). */
  name: string;
}

/**
 * Resolves a username or numeric id to an existing Roblox account, for `caller` (a Discord user id):
 * a username waits in the batched lookup's line, an id in Get User's; `onWait` hears where they stand.
 */
export async function findRobloxAccount(roblox: RobloxApi, input: string, caller: string, onWait?: (wait: Wait) => void): Promise<Step<RobloxAccount>> {
  const text = input.trim();
  if (/^\d+$/.test(text)) {
    if (Number(text) < 1 || !Number.isSafeInteger(Number(text))) return { ok: false, error: `"${text}" is not a valid Roblox user id.` };
    const userId = String(Number(text));
    const user = await getUser(roblox, userId, onWait);
    if (!user.ok) {
      if (user.failure.kind === 'not_found') return { ok: false, error: `No Roblox account has the id ${userId}.` };
      return robloxDown(user.failure);
    }
    return { ok: true, value: { id: user.value.id, name: user.value.name } };
  }
  if (!USERNAME.test(text)) return { ok: false, error: 'A Roblox username is 3 to 20 letters, digits or underscores; give that or your numeric user id.' };
  // The lookup answers with the id and the current name, so Get User is not needed here.
  const found = await roblox.names.find(caller, text, onWait);
  switch (found.kind) {
    case 'found':
      return { ok: true, value: { id: found.id, name: found.name } };
    case 'unknown':
      return { ok: false, error: `No Roblox account is named "${text}". Check the spelling, or give your numeric user id.` };
    case 'replaced':
      return { ok: false, error: 'You ran /verify again before this one was answered: the newer one keeps your place in line and will answer there.' };
    case 'failed':
      return robloxDown(found.failure);
  }
}

function robloxDown(failure: RobloxFailure): { ok: false; error: string } {
  return { ok: false, error: `Roblox could not be asked just now (${FAILURE_REASONS[failure.kind]}). Nothing was changed; please try again in a minute.` };
}

export interface PendingVerification {
  id: string;
  code: string;
  expiresAt: Date;
  robloxUserId: string;
  robloxUsername: string;
}

/** Starts (or restarts) a proof for this Discord user; an earlier pending code stops working. */
export async function startVerification(deps: VerifyDeps, discordUserId: string, guildId: string, account: RobloxAccount): Promise<PendingVerification> {
  const data = {
    id: randomBytes(18).toString('base64url'),
    code: newCode(),
    guildId,
    robloxUserId: account.id,
    robloxUsername: account.name,
    expiresAt: new Date(deps.clock.now() + CODE_TTL_MS),
  };
  await deps.db.verification.upsert({ where: { discordUserId }, create: { discordUserId, ...data }, update: data });
  return data;
}

type Failed = { kind: 'failed'; error: string; retry: boolean };

export type Confirmation = { kind: 'linked'; robloxUserId: string; robloxUsername: string; guildId: string; previousHolder?: string } | Failed;

/** The presser's live verification, read before anything waits on Roblox. */
export async function pendingVerification(deps: VerifyDeps, verificationId: string, presserId: string): Promise<{ kind: 'pending'; pending: Verification } | { kind: 'not_yours' } | Failed> {
  const pending = await deps.db.verification.findUnique({ where: { id: verificationId } });
  if (!pending) return { kind: 'failed', error: 'This verification was already used or replaced. Run /verify again.', retry: false };
  if (pending.discordUserId !== presserId) return { kind: 'not_yours' };
  if (pending.expiresAt.getTime() <= deps.clock.now()) {
    await deps.db.verification.deleteMany({ where: { id: verificationId } });
    return { kind: 'failed', error: 'This code has expired. Run /verify again for a new one.', retry: false };
  }
  return { kind: 'pending', pending };
}

/** Checks the profile for the code and, if it is there, stores the link and spends the code. */
export async function confirmVerification(deps: VerifyDeps, pending: Verification, onWait?: (wait: Wait) => void): Promise<Confirmation> {
  const verificationId = pending.id;
  const presserId = pending.discordUserId;
  const user = await getUser(deps.roblox, pending.robloxUserId, onWait);
  if (!user.ok) return { kind: 'failed', error: robloxDown(user.failure).error, retry: true };
  if (!profileHasCode(user.value.about, pending.code)) {
    return {
      kind: 'failed',
      retry: true,
      error: `The code is not in the About of **${user.value.name}** yet. Save it on your profile (it can take a moment to show), then press the button again.`,
    };
  }
  // Spending the code and writing the link happen together: a code links once, at most.
  const spend = async (tx: Pick<Database, 'verification'>) => (await tx.verification.deleteMany({ where: { id: verificationId } })).count > 0;
  const link = { discordUserId: presserId, robloxUserId: pending.robloxUserId, robloxUsername: user.value.name, robloxDisplayName: user.value.displayName, method: 'profile', at: new Date(deps.clock.now()) } as const;
  const { saved, previousHolder } = await deps.links.save(link, spend);
  if (!saved) return { kind: 'failed', error: 'This verification was already used. Run /verify again.', retry: false };
  return { kind: 'linked', robloxUserId: pending.robloxUserId, robloxUsername: user.value.name, guildId: pending.guildId, previousHolder };
}
