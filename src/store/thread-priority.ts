import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * How a writer thread is scheduled. `background`: it gets the CPU only when nothing else wants
 * it (see lowerThisThread), so writing the request log never takes a core from the requests
 * being answered; `normal`: as every other thread.
 */
export type ThreadPriority = 'background' | 'normal';

/** What lowerThisThread achieved. */
export type Lowered = 'idle' | 'nice' | 'unchanged';

/**
 * Puts the calling thread (a worker's, not the process) into Linux's SCHED_IDLE class, so that it
 * runs only on a core no other thread wants, or, where that cannot be done, at nice 19.
 *
 * Why it matters: a busy writer thread on a core makes the kernel wake the processes the event
 * loop talks to (its clients, a local model server) on the event loop's own core, which then
 * waits while they run; as SCHED_IDLE the writer's core counts as free, and they go there.
 *
 * Node has no call for the scheduling class, hence util-linux's `chrt` on this thread's id (from
 * /proc/thread-self), run once when the thread starts; a thread may always lower itself, so no
 * privilege is needed. Raising it again would need CAP_SYS_NICE: a writer that falls behind is
 * helped by a second thread at normal priority instead (RequestWriter's `catchUp`).
 */
export function lowerThisThread(): Lowered {
  const tid = threadId();
  if (tid === null) return 'unchanged';
  try {
    execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 2_000 });
    return 'idle';
  } catch {
    // No chrt (a minimal image), or it failed: the niceness is per thread on Linux.
  }
  try {
    setPriority(tid, 19);
    return 'nice';
  } catch {
    return 'unchanged';
  }
}

/** The calling thread's id (Linux's tid, from /proc/thread-self); null where there is none. */
export function threadId(): number | null {
  if (process.platform !== 'linux') return null;
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return null;
  }
  return Number.isSafeInteger(tid) && tid > 0 ? tid : null;
}
