// Nobody waits in silence: while a member's answer waits on Roblox, their reply says where they
// stand ("you are 37th in line, about 20 seconds") and is edited as the line moves. A quick answer
// shows no notice at all; a slow one shows it after `patienceMs`, well inside Discord's 3 seconds,
// or at once when the line already says it will be longer.
// Edits are few: one when the place changes, at most one per `minGapMs`, as a rush shares
// discord.js's 50 requests a second among every member.

import type { Wait } from './roblox/budget';

/** Every notice starts with this, so it is never mistaken for an answer. */
export const WAITING_MARK = '⏳';

export interface WaitingNotice {
  /** The member's latest place in line. */
  update(wait: Wait): void;
  /** No more notices; resolves once any notice under way has landed, so the answer comes last. */
  finish(): Promise<void>;
}

export interface NoticeTexts {
  /** Why the member waits, e.g. "to look up your Roblox account". */
  purpose: string;
  /** Shown when nothing is known of a line (the request is with Roblox, or in another queue). */
  idle: string;
}

export const NOTICE_TIMING = { patienceMs: 1_000, minGapMs: 3_000 };

export function waitingNotice(show: (text: string) => Promise<unknown>, texts: NoticeTexts, timing = NOTICE_TIMING): WaitingNotice {
  const startedAt = Date.now();
  let latest: Wait | undefined;
  /** The place last shown; the estimate alone changing is not worth an edit. */
  let shown: number | 'idle' | undefined;
  let shownAt = 0;
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  let landed: Promise<unknown> = Promise.resolve();

  const flush = () => {
    timer = undefined;
    const place = latest?.position ?? 'idle';
    if (done || place === shown) return;
    const text = latest ? describeWait(latest, texts.purpose) : `${WAITING_MARK} ${texts.idle}`;
    shown = place;
    shownAt = Date.now();
    // A notice that cannot be shown (the interaction expired) changes nothing; the answer still tries.
    landed = landed.then(() => show(text)).catch(() => undefined);
  };
  const schedule = () => {
    if (done || timer) return;
    const at = shown === undefined ? startedAt + timing.patienceMs : shownAt + timing.minGapMs;
    timer = setTimeout(flush, Math.max(0, at - Date.now()));
    timer.unref();
  };
  schedule();

  return {
    update(wait) {
      latest = wait;
      if (shown === undefined && wait.etaMs >= timing.patienceMs) {
        // A long wait is known at once: say so now rather than after the patience runs out.
        clearTimeout(timer);
        flush();
      } else if (wait.position !== shown) schedule();
    },
    async finish() {
      done = true;
      clearTimeout(timer);
      await landed;
    },
  };
}

export function describeWait(wait: Wait, purpose: string): string {
  if (wait.position === 0) return `${WAITING_MARK} Asking Roblox now ${purpose}…`;
  return `${WAITING_MARK} Roblox is busy — you are ${ordinal(wait.position)} in line ${purpose}, about ${duration(wait.etaMs)}. This message updates as the line moves.`;
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

function duration(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `${Math.round(seconds / 60)} minutes`;
}
