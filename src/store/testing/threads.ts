import { readdirSync, readFileSync } from 'node:fs';
import { threadId } from '../thread-priority.js';

/** Linux scheduling policies as /proc reports them. */
export const SCHED_OTHER = 0;
export const SCHED_IDLE = 5;

/** A thread of this process: its scheduling policy and nice value (fields 41 and 19 of /proc/self/task/<tid>/stat); null once it has ended. */
export function schedulingOf(tid: number): { policy: number; nice: number } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // After the command name in parentheses; fields[0] is field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { policy: Number(fields[41 - 3]), nice: Number(fields[19 - 3]) };
}

/** The calling thread's id (tests that read /proc run on Linux only). */
export function ownTid(): number {
  return threadId()!;
}

/** This process's threads in the SCHED_IDLE class. */
export function idleThreads(): number[] {
  return readdirSync('/proc/self/task')
    .map(Number)
    .filter((tid) => schedulingOf(tid)?.policy === SCHED_IDLE);
}
