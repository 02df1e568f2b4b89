// Background work on servers, one server at a time in the order queued; a server queued again while
// it waits is not queued twice. Used by the membership index's reconciliation and the unverified-role pass.

export interface ServerQueue {
  add(guildIds: readonly string[]): void;
  delete(guildId: string): void;
  /** Settles once nothing is queued or running. */
  settled(): Promise<void>;
  /** No more work starts; settles when the running one ends. */
  stop(): Promise<void>;
  stopping(): boolean;
}

export function createServerQueue(work: (guildId: string) => Promise<void>): ServerQueue {
  const queue = new Set<string>();
  let worker: Promise<void> | undefined;
  let stopping = false;

  async function drain(): Promise<void> {
    while (!stopping && queue.size > 0) {
      const guildId = queue.values().next().value as string;
      queue.delete(guildId);
      await work(guildId);
    }
    worker = undefined;
  }

  return {
    add(guildIds) {
      for (const guildId of guildIds) queue.add(guildId);
      if (!worker && !stopping) worker = drain();
    },
    delete: (guildId) => queue.delete(guildId),
    async settled() {
      while (worker) await worker;
    },
    async stop() {
      stopping = true;
      await worker;
    },
    stopping: () => stopping,
  };
}
