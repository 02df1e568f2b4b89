// One member's checks (and link changes) never overlap: whatever touches a member's roles or link
// runs inside that member's lock. One process: a promise chain per member. Queue mode adds a lock
// in Redis around it (src/queue/lock.ts), so the rule holds across processes.

/** Runs `work` while holding `id`'s lock; waiters go in turn. */
export type MemberLock = <T>(id: string, work: () => Promise<T>) => Promise<T>;

export function localMemberLock(): MemberLock {
  const locks = new Map<string, Promise<unknown>>();
  return <T,>(id: string, work: () => Promise<T>): Promise<T> => {
    const next = (locks.get(id) ?? Promise.resolve()).catch(() => undefined).then(work);
    locks.set(id, next);
    const forget = () => locks.get(id) === next && locks.delete(id);
    next.then(forget, forget);
    return next;
  };
}
