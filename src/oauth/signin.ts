// Sign in with Roblox, from /verify to the callback. The state is random, single-use, expires in
// ten minutes and names the Discord user who ran /verify: the link is made for them and nobody else.
// The browser that continues gets a cookie every later step must bring back, then Discord says whose
// browser it is (OAuth2 identify): anyone but the requester is stopped before Roblox is even asked.
// All of that lives in the database, so with several processes any of them can take any step.

import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../clock';
import type { Database } from '../database/client';
import { type DiscordOAuth, discordAuthorizeUrl, discordUserFromCode } from '../discord/identity';
import type { ServerLog } from '../discord/serverlog';
import { onLinked } from '../linked';
import type { LinkChanges } from '../linkchanges';
import type { Logger } from '../log';
import type { RobloxApi } from '../roblox/api';
import type { Wait } from '../roblox/budget';
import type { FailureKind } from '../roblox/http';
import { authorizeUrl, INVENTORY_SCOPE, newVerifier, requestTokens, userinfo } from '../roblox/oauth';
import type { MemberResult, MemberSync } from '../sync/members';
import type { Grants, OAuthSettings } from './grants';

export const STATE_TTL_MS = 10 * 60 * 1000;

export interface SignInDeps {
  db: Database;
  roblox: RobloxApi;
  clock: Clock;
  log: Logger;
  grants: Grants;
  sync: MemberSync;
  links: LinkChanges;
  serverLog: ServerLog;
  settings: OAuthSettings;
  discordOAuth: DiscordOAuth;
  publicUrl: string;
  /** Queue mode: how a sign-in finished in another process reaches the one holding its /verify reply. */
  relay?: SignInRelay;
}

/**
 * Every process serves the sign-in pages, so any may finish a sign-in; the /verify reply to update
 * is an interaction only the process where /verify ran holds. Whoever finishes it tells them all
 * (Redis pub/sub) how it went and where the member stands meanwhile; the holder updates the reply.
 * The interaction and its token never leave their process; a sign-in is named by a digest of its
 * state, which is spent by then anyway.
 */
export interface SignInRelay {
  publish(message: string): Promise<void>;
  listen(listener: (message: string) => void): void;
}

export const SIGN_IN_CHANNEL = 'gatepass:signin';

const relayed = z.union([
  z.object({ key: z.string(), wait: z.object({ position: z.number(), etaMs: z.number() }) }),
  z.object({ key: z.string(), outcome: z.looseObject({ kind: z.enum(['linked', 'failed']) }) }),
]);
type Relayed = { key: string; wait: Wait } | { key: string; outcome: SignInOutcome };

export interface Problem {
  title: string;
  message: string;
}

export type SignInOutcome =
  | { kind: 'linked'; discordUserId: string; guildId: string; robloxUserId: string; robloxName: string; inventoryScope: boolean; sync?: MemberResult }
  | ({ kind: 'failed'; discordUserId?: string } & Problem);

export interface Requester {
  discordUserId: string;
  requesterName: string;
  serverName: string;
}

export interface SignIns {
  /**
   * A sign-in for this member; an earlier unfinished one stops working. `onDone` hears how it ends,
   * and `onWait` where the member stands while finishing it waits on Roblox.
   */
  start(requester: Requester & { guildId: string }, onDone?: (outcome: SignInOutcome) => Promise<void>, onWait?: (wait: Wait) => void): Promise<{ url: string; expiresAt: Date }>;
  /** Whose sign-in a state is, for the page that asks before going to Roblox. */
  view(state: string): Promise<({ ok: true } & Requester) | ({ ok: false } & Problem)>;
  /** Continue pressed: a new cookie binds this browser (any earlier confirmation is void), and Discord's page to say whose it is. */
  begin(state: string): Promise<{ ok: true; redirect: string; cookie: string } | ({ ok: false } & Problem)>;
  /** Back from Discord: on to Roblox if the browser is the requester's; otherwise the sign-in ends. */
  confirmDiscord(query: URLSearchParams, cookie: string | undefined): Promise<{ ok: true; redirect: string } | ({ ok: false } & Problem)>;
  /** "This isn't me": the sign-in is dropped and its requester told. */
  cancel(state: string): Promise<void>;
  finish(query: URLSearchParams, cookie: string | undefined): Promise<SignInOutcome>;
}

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

const GONE: Problem = { title: 'This sign-in link no longer works', message: 'It was already used, replaced by a newer one, or cancelled. Run /verify in Discord to get a new link.' };
const OTHER_BROWSER: Problem = { title: 'This sign-in was started in another browser', message: 'Open the link from /verify in this browser and sign in from there. Nothing was linked.' };
const UNCONFIRMED: Problem = { title: 'Discord has not confirmed this browser', message: 'Open the link from /verify and continue from its page: Discord confirms who you are before Roblox is asked. Nothing was linked.' };
const EXPIRED: Problem = { title: 'This sign-in link has expired', message: 'Links work for 10 minutes. Run /verify in Discord to get a new one.' };

export function createSignIns(deps: SignInDeps): SignIns {
  const { db, clock } = deps;
  // The /verify replies this process holds, in memory, by the digest of their state: after a
  // restart the page still says how it ended.
  const waiting = new Map<string, { discordUserId: string; expiresAt: number; onDone: (outcome: SignInOutcome) => Promise<void>; onWait?: (wait: Wait) => void }>();
  const base = deps.publicUrl.replace(/\/+$/, '');

  const deliver = (key: string, outcome: SignInOutcome) => {
    const entry = waiting.get(key);
    waiting.delete(key);
    entry?.onDone(outcome).catch((error: unknown) => deps.log.warn({ err: error }, 'could not update the /verify reply'));
  };
  const send = (message: Relayed) =>
    deps.relay?.publish(JSON.stringify(message)).catch((error: unknown) => deps.log.warn({ err: error }, "could not tell the other processes how a sign-in went (Redis away?); the member's /verify reply is not updated"));
  const tell = (state: string, outcome: SignInOutcome) => {
    const key = hash(state);
    if (waiting.has(key) || !deps.relay) deliver(key, outcome);
    else void send({ key, outcome });
  };
  deps.relay?.listen((text) => {
    const message = relayed.safeParse(parseJson(text));
    if (!message.success || !waiting.has(message.data.key)) return;
    if ('wait' in message.data) waiting.get(message.data.key)?.onWait?.(message.data.wait);
    else deliver(message.data.key, message.data.outcome as SignInOutcome);
  });

  /** Where the member stands while finishing waits on Roblox: told here, or to the process holding the reply. */
  const waitReport = (state: string): ((wait: Wait) => void) | undefined => {
    const key = hash(state);
    const here = waiting.get(key);
    if (here || !deps.relay) return here?.onWait;
    let told: number | undefined;
    return (wait) => {
      if (wait.position === told) return;
      told = wait.position;
      void send({ key, wait });
    };
  };

  async function live(state: string) {
    const row = /^[A-Za-z0-9_-]{43}$/.test(state) ? await db.oAuthState.findUnique({ where: { state } }) : null;
    if (!row) return { ok: false as const, ...GONE };
    if (row.expiresAt.getTime() <= clock.now()) {
      await db.oAuthState.deleteMany({ where: { state } });
      tell(state, { kind: 'failed', discordUserId: row.discordUserId, ...EXPIRED });
      return { ok: false as const, ...EXPIRED };
    }
    return { ok: true as const, row };
  }

  async function link(row: { state: string; discordUserId: string; guildId: string; codeVerifier: string }, code: string): Promise<SignInOutcome> {
    const failed = (problem: Problem): SignInOutcome => ({ kind: 'failed', discordUserId: row.discordUserId, ...problem });
    const onWait = waitReport(row.state);
    const tokens = await requestTokens(deps.roblox, deps.settings.client, { code, verifier: row.codeVerifier }, onWait);
    if (!tokens.ok) {
      if (tokens.failure.code === 'invalid_grant') return failed({ title: 'Roblox did not accept this sign-in', message: 'The sign-in code was already used or has expired (they last a minute). Run /verify in Discord and sign in again.' });
      if (tokens.failure.kind === 'auth') {
        deps.log.error({ detail: tokens.failure.detail }, 'Roblox rejected the OAuth client: check ROBLOX_OAUTH_CLIENT_ID and ROBLOX_OAUTH_CLIENT_SECRET');
        return failed({ title: "The bot's Roblox sign-in is misconfigured", message: 'Nothing was linked. Please tell the server staff; meanwhile /verify username:<name> links with a profile code.' });
      }
      deps.log.warn({ failure: tokens.failure.kind, detail: tokens.failure.detail }, 'OAuth code exchange failed');
      return failed(robloxDown(tokens.failure.kind));
    }
    const account = await userinfo(deps.roblox, tokens.value.accessToken, onWait);
    if (!account.ok) return failed(robloxDown(account.failure.kind));
    const now = new Date(clock.now());
    const store = async (tx: Pick<Database, 'oAuthGrant'>) => {
      await deps.grants.store(tx, row.discordUserId, account.value.id, tokens.value);
      return true;
    };
    const { previousHolder } = await deps.links.save({ discordUserId: row.discordUserId, robloxUserId: account.value.id, robloxUsername: account.value.name, robloxDisplayName: account.value.displayName, method: 'oauth', at: now }, store);
    const linked = { discordUserId: row.discordUserId, guildId: row.guildId, robloxUserId: account.value.id, robloxUsername: account.value.name, proof: 'Sign in with Roblox', previousHolder };
    const sync = await onLinked(deps, linked).catch((error: unknown) => {
      deps.log.error({ err: error }, 'sync after sign-in failed; the next run will do it');
      return undefined;
    });
    return { kind: 'linked', discordUserId: row.discordUserId, guildId: row.guildId, robloxUserId: account.value.id, robloxName: account.value.name, inventoryScope: tokens.value.scopes.includes(INVENTORY_SCOPE), sync };
  }

  return {
    async start(requester, onDone, onWait) {
      const state = randomBytes(32).toString('base64url');
      const expiresAt = new Date(clock.now() + STATE_TTL_MS);
      await db.$transaction([
        db.oAuthState.deleteMany({ where: { discordUserId: requester.discordUserId } }),
        db.oAuthState.create({ data: { state, ...requester, codeVerifier: newVerifier(), expiresAt } }),
      ]);
      for (const [old, entry] of waiting) if (entry.discordUserId === requester.discordUserId || entry.expiresAt <= clock.now()) waiting.delete(old);
      if (onDone) waiting.set(hash(state), { discordUserId: requester.discordUserId, expiresAt: expiresAt.getTime(), onDone, onWait });
      return { url: `${base}/oauth/start?state=${state}`, expiresAt };
    },

    async view(state) {
      const found = await live(state);
      return found.ok ? { ok: true, discordUserId: found.row.discordUserId, requesterName: found.row.requesterName, serverName: found.row.serverName } : found;
    },

    async begin(state) {
      const found = await live(state);
      if (!found.ok) return found;
      const cookie = randomBytes(32).toString('base64url');
      // A new browser needs Discord's word of its own: a confirmation given to another never carries over.
      await db.oAuthState.update({ where: { state }, data: { browserHash: hash(cookie), discordChecked: false } });
      return { ok: true, redirect: discordAuthorizeUrl(deps.discordOAuth, state), cookie };
    },

    async confirmDiscord(query, cookie) {
      const state = query.get('state') ?? '';
      const found = await live(state);
      if (!found.ok) return found;
      const { row } = found;
      if (!cookie || row.browserHash !== hash(cookie)) return { ok: false, ...OTHER_BROWSER };
      const code = query.get('code');
      if (!code) return { ok: false, title: 'Discord did not confirm who you are', message: 'Discord must confirm your account before Roblox is asked. Open the link from /verify again and allow it.' };
      const who = await discordUserFromCode(deps.discordOAuth, code);
      if (!who.ok) {
        deps.log.warn({ detail: who.detail }, 'Discord identity check failed');
        return { ok: false, title: 'Discord could not be asked', message: 'Nothing was linked. Try the link from /verify again in a minute.' };
      }
      if (who.id !== row.discordUserId) {
        // Spent: a link that reached someone else is dead, and its requester hears why.
        await db.oAuthState.deleteMany({ where: { state } });
        tell(state, { kind: 'failed', discordUserId: row.discordUserId, title: 'Sign-in stopped', message: 'Your sign-in link was opened by a different Discord account, so nothing was linked. Run /verify again and open the link yourself.' });
        return { ok: false, title: 'This link was made for another Discord account', message: `It belongs to ${row.requesterName}. Nothing was linked. To link your own account, run /verify in Discord.` };
      }
      // Only if no other Continue re-bound the sign-in while Discord was being asked.
      const confirmed = await db.oAuthState.updateMany({ where: { state, browserHash: hash(cookie) }, data: { discordChecked: true } });
      if (confirmed.count === 0) return { ok: false, ...OTHER_BROWSER };
      return { ok: true, redirect: authorizeUrl(deps.roblox, deps.settings.client, state, row.codeVerifier) };
    },

    async cancel(state) {
      const found = await live(state);
      if (!found.ok) return;
      await db.oAuthState.deleteMany({ where: { state } });
      tell(state, { kind: 'failed', discordUserId: found.row.discordUserId, title: 'Sign-in cancelled', message: 'Whoever opened your sign-in link said it is not theirs, so nothing was linked. Run /verify again if you want to sign in.' });
    },

    async finish(query, cookie) {
      const state = query.get('state') ?? '';
      const found = await live(state);
      if (!found.ok) return { kind: 'failed', ...found };
      const { row } = found;
      // Only the browser that confirmed on our page may finish; nothing is spent otherwise.
      if (!cookie || row.browserHash !== hash(cookie)) return { kind: 'failed', ...OTHER_BROWSER };
      if (!row.discordChecked) return { kind: 'failed', ...UNCONFIRMED };
      const spent = await db.oAuthState.deleteMany({ where: { state } });
      if (spent.count === 0) return { kind: 'failed', ...GONE };
      const error = query.get('error');
      const code = query.get('code');
      const outcome: SignInOutcome =
        error !== null
          ? { kind: 'failed', discordUserId: row.discordUserId, ...(error === 'access_denied' ? { title: 'You did not allow access', message: 'Nothing was linked. To link your account, run /verify again and press Allow on Roblox; or use /verify username:<name> to link with a profile code.' } : { title: 'Roblox could not complete the sign-in', message: `Roblox answered "${error.replace(/[^a-z_]/gi, '').slice(0, 40)}". Nothing was linked; run /verify to try again.` }) }
          : !code || code.length > 2048
            ? { kind: 'failed', discordUserId: row.discordUserId, title: 'Roblox sent no sign-in code', message: 'Nothing was linked; run /verify to try again.' }
            : await link(row, code);
      tell(state, outcome);
      return outcome;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function robloxDown(kind: FailureKind): Problem {
  return { title: 'Roblox could not complete the sign-in', message: `Roblox did not answer properly (${kind.replace('_', ' ')}). Nothing was linked; run /verify in Discord in a minute to try again.` };
}
