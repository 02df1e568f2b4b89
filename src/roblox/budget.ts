import { type Clock, systemClock } from '../clock';

/**
 * At most `limit` requests start in any rolling window of `windowMs`; Roblox can pause it further
 * (retry-after, an exhausted x-ratelimit window). Every request of one kind shares one budget.
 */
export class RateBudget {
  private readonly starts: number[] = [];
  private pausedUntil = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  async take(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      while (this.starts.length > 0 && this.starts[0]! <= now - this.windowMs) this.starts.shift();
      const wait =
        this.pausedUntil > now
          ? this.pausedUntil - now
          : this.starts.length >= this.limit
            ? this.starts[0]! + this.windowMs - now
            : 0;
      if (wait <= 0) {
        this.starts.push(now);
        return;
      }
      await this.clock.sleep(wait);
    }
  }

  /** Roblox asked us to wait: nothing of this kind is sent before then. */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }
}
