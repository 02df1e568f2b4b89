import type { Clock } from '../clock';

/** How a call may proceed: normally, as the one probe of a rejected key, or not at all. */
export type KeyTicket = 'go' | 'probe' | 'blocked';

/**
 * Once Roblox rejects the API key, every call with it would fail the same way: stop sending
 * them, let one probe through after an exponential backoff, and say so once when it breaks and
 * once when it works again. Roles are untouched meanwhile, because every check answers "unknown".
 */
export class KeyGuard {
  private failures = 0;
  private retryAt = 0;
  private probing = false;

  constructor(
    private readonly clock: Clock,
    private readonly onChange: (state: 'rejected' | 'recovered', detail: string) => void,
    private readonly baseMs = 30_000,
    private readonly maxMs = 30 * 60_000,
  ) {}

  admit(): KeyTicket {
    if (this.failures === 0) return 'go';
    if (this.probing || this.clock.now() < this.retryAt) return 'blocked';
    this.probing = true;
    return 'probe';
  }

  rejected(ticket: KeyTicket, detail: string): void {
    // Calls already in flight when the key was first rejected report nothing new.
    if (ticket === 'go' && this.failures > 0) return;
    this.probing = false;
    this.failures++;
    if (this.failures === 1) this.onChange('rejected', detail);
    const step = Math.min(this.maxMs, this.baseMs * 2 ** (this.failures - 1));
    this.retryAt = this.clock.now() + step * (0.75 + Math.random() * 0.5);
  }

  accepted(): void {
    this.probing = false;
    if (this.failures === 0) return;
    this.failures = 0;
    this.onChange('recovered', '');
  }
}
