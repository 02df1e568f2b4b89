import { type Clock, systemClock } from '../clock';

/**
 * At most `limit` requests in any rolling window of `windowMs`; Roblox can pause it further
 * (retry-after, an exhausted x-ratelimit window). Every request of one kind shares one budget.
 *
 * A slot counts from when its response arrived, not when it was sent: Roblox counts a request
 * somewhere in between, so dating it late is the only way never to overrun its window.
 *
 * Priority requests (a member waiting on /verify, /update, a join) go first, but every
 * `BACKGROUND_SHARE`th slot goes to the background cycle when it is waiting, so it never starves.
 * Priority requests go in the order they came, and each can hear where it stands in that line.
 */
/** Where a waiting member stands: `position` 1 is next; 0 means Roblox is being asked right now. */
export interface Wait {
  position: number;
  etaMs: number;
}

/** What a Roblox call needs of its budget; RateBudget in one process, SharedRateBudget (queue mode) across many. */
export interface Budget {
  readonly limit: number;
  readonly windowMs: number;
  /** Waits for a slot; call the returned function when the response has arrived. */
  take(priority?: boolean, onWait?: (wait: Wait) => void): Promise<() => void>;
  /** Roblox asked us to wait: nothing of this kind is sent before then. */
  pauseFor(ms: number): void;
  /** What Roblox said of its own window (x-ratelimit-remaining / -reset). */
  observe(remaining: number | undefined, resetSeconds: number | undefined): void;
}

interface Ticket {
  onWait?: (wait: Wait) => void;
  wake?: () => void;
}

export class RateBudget implements Budget {
  private readonly slots: { at: number }[] = [];
  /** Priority requests still waiting, first come first. */
  private readonly line: Ticket[] = [];
  private pausedUntil = 0;
  private readonly waiting = { priority: 0, background: 0 };
  private priorityStreak = 0;
  /** Until Roblox has told us how much of its window is left, send one request at a time. */
  private heardFromRoblox = false;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock = systemClock,
    /** Requests of this kind in flight at once; more wait, so a slow Roblox is not flooded. */
    readonly maxInFlight = 4,
  ) {}

  /** Waits for a slot; call the returned function when the response has arrived. */
  async take(priority = false, onWait?: (wait: Wait) => void): Promise<() => void> {
    const lane = priority ? 'priority' : 'background';
    this.waiting[lane]++;
    const ticket: Ticket | undefined = priority ? { onWait } : undefined;
    if (ticket) this.line.push(ticket);
    try {
      for (;;) {
        const wait = this.waitFor(priority);
        const ahead = ticket ? this.line.indexOf(ticket) : 0;
        if (wait <= 0 && ahead === 0) {
          this.priorityStreak = priority ? this.priorityStreak + 1 : 0;
          const slot = { at: Number.POSITIVE_INFINITY };
          this.slots.push(slot);
          if (ticket) this.leaveLine(ticket);
          return () => {
            slot.at = this.clock.now();
          };
        }
        if (!ticket) {
          await this.clock.sleep(wait);
          continue;
        }
        if (ticket.wake === undefined) ticket.onWait?.({ position: ahead + 1, etaMs: Math.max(0, wait) + ahead * this.spacing() });
        // Behind someone: sleep until they go (they wake us), and look again each second regardless.
        await Promise.race([this.clock.sleep(ahead === 0 ? wait : Math.min(this.windowMs, 1_000)), new Promise<void>((resolve) => (ticket.wake = resolve))]);
      }
    } finally {
      this.waiting[lane]--;
      if (ticket && this.line.includes(ticket)) this.leaveLine(ticket);
    }
  }

  private leaveLine(ticket: Ticket): void {
    this.line.splice(this.line.indexOf(ticket), 1);
    this.line[0]?.wake?.();
    this.tellLine(this.line.length > 0 ? Math.max(0, this.waitFor(true)) : 0);
  }

  /** Everyone in line hears their place; each one ahead costs about one slot's share of the window. */
  private tellLine(headWaitMs: number): void {
    for (const [index, ticket] of this.line.entries()) ticket.onWait?.({ position: index + 1, etaMs: headWaitMs + index * this.spacing() });
  }

  private spacing(): number {
    return this.windowMs / this.limit;
  }

  /** Roblox asked us to wait: nothing of this kind is sent before then. */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }

  /**
   * What Roblox said of its own window (x-ratelimit-remaining / -reset). Its count is the truth: it
   * includes requests from before a restart, or from other processes using the same key owner.
   * When fewer requests remain than we may have in flight, wait for the window to reset.
   */
  observe(remaining: number | undefined, resetSeconds: number | undefined): void {
    this.heardFromRoblox = true;
    if (remaining !== undefined && resetSeconds !== undefined && remaining < this.maxInFlight) this.pauseFor(resetSeconds * 1000);
  }

  /** How long a request must still wait; 0 or less means it may go now. */
  private waitFor(priority: boolean): number {
    const now = this.clock.now();
    for (let i = this.slots.length - 1; i >= 0; i--) if (this.slots[i]!.at <= now - this.windowMs) this.slots.splice(i, 1);
    const poll = Math.min(20, this.windowMs / 10);
    if (this.pausedUntil > now) return this.pausedUntil - now;
    const inFlight = this.slots.filter((s) => s.at === Number.POSITIVE_INFINITY).length;
    if (inFlight >= (this.heardFromRoblox ? this.maxInFlight : 1)) return poll;
    if (this.slots.length >= this.limit) {
      const oldest = Math.min(...this.slots.map((s) => s.at));
      // Every slot still in flight: check again shortly rather than guess when one lands.
      return Number.isFinite(oldest) ? oldest + this.windowMs - now : poll;
    }
    const backgroundsTurn = this.priorityStreak >= BACKGROUND_SHARE - 1;
    if (priority && backgroundsTurn && this.waiting.background > 0) return poll;
    if (!priority && !backgroundsTurn && this.waiting.priority > 0) return poll;
    return 0;
  }
}

/** One slot in this many is kept for the background cycle while priority requests queue. */
export const BACKGROUND_SHARE = 4;
