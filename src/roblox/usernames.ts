// Username → user id, for a rush: lookups waiting at the same moment go to Roblox together, up to
// 100 names per POST /v1/usernames/users, at most one request per `intervalMs`, first come first
// served. Each member holds one place in line: asking again while still waiting keeps the place
// and answers the earlier ask as replaced, so one member cannot fill the line or spend the budget.

import { z } from 'zod';
import type { Clock } from '../clock';
import type { Budget, Wait } from './budget';
import { type RobloxFailure, type RobloxHttpOptions, robloxCall } from './http';

/**
 * Names per request. Roblox documents no maximum (the spec has no maxItems, only a 400 "2: Too many
 * usernames."); 100 is the figure clients rely on, and a fake that enforces it keeps us honest.
 */
export const MAX_NAMES_PER_REQUEST = 100;

export type NameLookup =
  | { kind: 'found'; id: string; name: string }
  | { kind: 'unknown' }
  /** The same member asked again before this was answered; the newer ask holds the place. */
  | { kind: 'replaced' }
  | { kind: 'failed'; failure: RobloxFailure };

export interface UsernameLookups {
  /** `caller` is whoever waits (a Discord user id); `onWait` hears their place as the line moves. */
  find(caller: string, username: string, onWait?: (wait: Wait) => void): Promise<NameLookup>;
}

interface Entry {
  caller: string;
  name: string;
  resolve: (lookup: NameLookup) => void;
  onWait?: (wait: Wait) => void;
}

const usernamesBody = z.object({
  data: z.array(z.object({ requestedUsername: z.string(), id: z.number().int().positive(), name: z.string() })),
});

export interface UsernameLookupOptions {
  /** POST /v1/usernames/users on the users host. */
  url: URL;
  budget: Budget;
  http: RobloxHttpOptions;
  clock: Clock;
  /** Spacing between requests: the budget's window divided by its limit. */
  intervalMs: number;
  /** How long the first lookup of a quiet moment waits for others to join it. */
  gatherMs: number;
}

export function createUsernameLookups(options: UsernameLookupOptions): UsernameLookups {
  const { clock } = options;
  const line: Entry[] = [];
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let firstWaitingSince = 0;
  let running = false;

  const nextSendAt = () => Math.max(firstWaitingSince + options.gatherMs, lastSentAt + options.intervalMs);

  /** Tells everyone waiting where they stand; a batch takes up to 100 distinct names. */
  const report = () => {
    const base = Math.max(0, nextSendAt() - clock.now());
    const names = new Map<string, number>();
    for (const [index, entry] of line.entries()) {
      const key = entry.name.toLowerCase();
      if (!names.has(key)) names.set(key, names.size);
      const batch = Math.floor(names.get(key)! / MAX_NAMES_PER_REQUEST);
      entry.onWait?.({ position: index + 1, etaMs: base + batch * options.intervalMs });
    }
  };

  /** The entries of the next request, from the head of the line. */
  const takeBatch = (): Entry[] => {
    const names = new Set<string>();
    const batch: Entry[] = [];
    for (let i = 0; i < line.length; ) {
      const entry = line[i]!;
      const key = entry.name.toLowerCase();
      if (!names.has(key) && names.size === MAX_NAMES_PER_REQUEST) {
        i++;
        continue;
      }
      names.add(key);
      batch.push(entry);
      line.splice(i, 1);
    }
    return batch;
  };

  const send = async (batch: Entry[]) => {
    // Each name once, as the first in line to ask for it wrote it.
    const seen = new Set<string>();
    const usernames = batch.map((e) => e.name).filter((name) => !seen.has(name.toLowerCase()) && seen.add(name.toLowerCase()));
    // robloxCall answers rather than throws; should it ever throw, nobody in the batch waits forever.
    const result = await robloxCall(
      { url: options.url, method: 'POST', body: { usernames, excludeBannedUsers: true }, budget: options.budget, priority: true, schema: usernamesBody },
      options.http,
    ).catch((error: unknown) => ({ ok: false as const, failure: { kind: 'unavailable' as const, detail: `username lookup failed: ${String(error)}` } }));
    for (const entry of batch) entry.resolve(result.ok ? answerFor(entry.name, result.value.data) : { kind: 'failed', failure: result.failure });
  };

  const run = async () => {
    running = true;
    try {
      while (line.length > 0) {
        const wait = nextSendAt() - clock.now();
        if (wait > 0) {
          await clock.sleep(wait);
          continue; // the line may have changed while we slept
        }
        lastSentAt = clock.now();
        const batch = takeBatch();
        for (const entry of batch) entry.onWait?.({ position: 0, etaMs: 0 });
        report();
        // One request at a time: the line's estimates stay honest when Roblox is slow.
        await send(batch);
      }
    } finally {
      running = false;
    }
  };

  return {
    find(caller, username, onWait) {
      return new Promise<NameLookup>((resolve) => {
        const held = line.find((e) => e.caller === caller);
        if (held) {
          // Same place, newest name: the earlier ask is answered as replaced.
          held.resolve({ kind: 'replaced' });
          Object.assign(held, { name: username, resolve, onWait });
        } else {
          if (line.length === 0) firstWaitingSince = clock.now();
          line.push({ caller, name: username, resolve, onWait });
        }
        report();
        if (!running) void run();
      });
    },
  };
}

/**
 * The answer for one requested name. Roblox matches current and previous names, case-insensitively,
 * and leaves out names it does not know (and banned accounts, as asked). Two different accounts for
 * one name cannot be told apart, so that caller gets no answer rather than a guess.
 */
function answerFor(requested: string, data: z.infer<typeof usernamesBody>['data']): NameLookup {
  const matches = data.filter((d) => d.requestedUsername.toLowerCase() === requested.toLowerCase());
  if (matches.length === 0) return { kind: 'unknown' };
  if (new Set(matches.map((m) => m.id)).size > 1) {
    return { kind: 'failed', failure: { kind: 'bad_response', status: 200, detail: `usernames lookup answered "${requested}" with ${matches.length} different accounts` } };
  }
  return { kind: 'found', id: String(matches[0]!.id), name: matches[0]!.name };
}
