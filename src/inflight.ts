// Work that runs beside its caller and writes roles: what a Discord event or a command started,
// and the checks themselves. Tracked, so stop() lets it finish while the client and the database
// are still there (a role write queued behind a rate limit would otherwise be sent after the bot
// has stopped), and so a test can wait for what an event started to land.

export interface InFlight {
  /** Tracks `work` until it settles, and gives it back. */
  track<T>(work: Promise<T>): Promise<T>;
  /** How much is under way now. */
  size(): number;
  /** Settles once nothing is under way, work begun meanwhile included. */
  settled(): Promise<void>;
  /** True once stop() was called: nothing new may begin. */
  stopping(): boolean;
  /** From now on nothing new begins; settles once what is under way is done. */
  stop(): Promise<void>;
}

export function createInFlight(): InFlight {
  const running = new Set<Promise<unknown>>();
  let stopped = false;
  const settled = async () => {
    while (running.size > 0) await Promise.allSettled(running);
  };
  return {
    track(work) {
      running.add(work);
      const forget = () => void running.delete(work);
      work.then(forget, forget);
      return work;
    },
    size: () => running.size,
    settled,
    stopping: () => stopped,
    stop() {
      stopped = true;
      return settled();
    },
  };
}
