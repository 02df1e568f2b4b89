import type { Clock } from '../clock';

/**
 * Once Roblox rejects the API key, every call with it would fail the same way: stop sending
 * them, try again after an exponential backoff, and say so once when it breaks and once when it
 * works again. Roles are untouched meanwhile, because every check answers "unknown".
 */
export class KeyGuard {
  private failures = 0;
  private retryAt = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onChange: (state: 'rejected' | 'recovered', detail: string) => void,
    private readonly baseMs = 30_000,
    private readonly maxMs = 30 * 60_000,
  ) {}

  /** True while we are waiting out a rejection; one probe is let through when the wait ends. */
  blocked(): boolean {
    if (this.failures === 0 || this.clock.now() >= this.retryAt) return false;
    return true;
  }

  rejected(detail: string): void {
    this.failures++;
    if (this.failures === 1) this.onChange('rejected', detail);
    const step = Math.min(this.maxMs, this.baseMs * 2 ** (this.failures - 1));
    this.retryAt = this.clock.now() + step * (0.75 + Math.random() * 0.5);
  }

  accepted(): void {
    if (this.failures === 0) return;
    this.failures = 0;
    this.onChange('recovered', '');
  }
}
