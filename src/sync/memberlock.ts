// One member's checks (and link changes) never overlap: whatever touches a member's roles or link
// runs inside that member's lock. One process: a promise chain per member. Queue mode adds a lock
// in Redis around it (src/queue/lock.ts), so the rule holds across processes.

/** Runs `work` while holding `id`'s lock; waiters go in turn. */
export interface MemberLock {
  <T>(id: string, work: () => Promise<T>): Promise<T>;
  /** Whether a check or change of `id` holds or awaits the lock here, when the lock can tell. */
  busy?(id: string): boolean;
}

export function localMemberLock(): MemberLock {
  const locks = new Map<string, Promise<unknown>>();
  const lock = <T,>(id: string, work: () => Promise<T>): Promise<T> => {
    const next = (locks.get(id) ?? Promise.resolve()).catch(() => undefined).then(work);
    locks.set(id, next);
    const forget = () => locks.get(id) === next && locks.delete(id);
    next.then(forget, forget);
    return next;
  };
  return Object.assign(lock, { busy: (id: string) => locks.has(id) });
}
