import { type Clock, systemClock } from '../clock';

/**
 * At most `limit` requests in any rolling window of `windowMs`; Roblox can pause it further
 * (retry-after, an exhausted x-ratelimit window). Every request of one kind shares one budget.
 *
 * A slot counts from when its response arrived, not when it was sent: Roblox counts a request
 * somewhere in between, so dating it late is the only way never to overrun its window.
 */
export class RateBudget {
  private readonly slots: { at: number }[] = [];
  private pausedUntil = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock = systemClock,
    /** Requests of this kind in flight at once; more wait, so a slow Roblox is not flooded. */
    readonly maxInFlight = 4,
  ) {}

  /** Waits for a slot; call the returned function when the response has arrived. */
  async take(): Promise<() => void> {
    for (;;) {
      const now = this.clock.now();
      for (let i = this.slots.length - 1; i >= 0; i--) if (this.slots[i]!.at <= now - this.windowMs) this.slots.splice(i, 1);
      let wait = this.pausedUntil - now;
      const inFlight = this.slots.filter((s) => s.at === Number.POSITIVE_INFINITY).length;
      if (wait <= 0 && inFlight >= this.maxInFlight) wait = Math.min(20, this.windowMs / 10);
      else if (wait <= 0 && this.slots.length >= this.limit) {
        const oldest = Math.min(...this.slots.map((s) => s.at));
        // Every slot still in flight: check again shortly rather than guess when one lands.
        wait = Number.isFinite(oldest) ? oldest + this.windowMs - now : Math.min(50, this.windowMs / 10);
      }
      if (wait <= 0) {
        const slot = { at: Number.POSITIVE_INFINITY };
        this.slots.push(slot);
        return () => {
          slot.at = this.clock.now();
        };
      }
      await this.clock.sleep(wait);
    }
  }

  /** Roblox asked us to wait: nothing of this kind is sent before then. */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }
}
