/**
 * Time for the simulated inference server. The engine only asks "what time is it" and "call me
 * in d seconds", so the same model runs behind HTTP in real time and, for planning and tests, in
 * virtual time, where a discrete-event loop jumps from one event to the next as fast as the CPU
 * allows.
 */
export interface Clock {
  /** Seconds since an arbitrary origin. */
  now(): number;
  /** Calls `fn` once, `delaySeconds` from now (0 = as soon as possible, after the current event). */
  schedule(delaySeconds: number, fn: () => void): void;
}

/** Wall-clock time: `performance.now()` and `setTimeout`. */
export class RealClock implements Clock {
  now(): number {
    return performance.now() / 1000;
  }

  schedule(delaySeconds: number, fn: () => void): void {
    setTimeout(fn, Math.max(0, delaySeconds * 1000));
  }
}

interface TimedEvent {
  readonly at: number;
  /** Ties at the same time run in the order they were scheduled. */
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * Virtual time: a binary min-heap of events ordered by (time, scheduling order). `run` pops and
 * runs events until none is left or the horizon is reached; `now()` is the time of the event
 * being run. A hand-written heap because the loop is the whole cost of a plan and a generic
 * priority-queue package would add a dependency for 40 lines.
 */
export class VirtualClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly heap: TimedEvent[] = [];

  now(): number {
    return this.time;
  }

  schedule(delaySeconds: number, fn: () => void): void {
    this.at(this.time + Math.max(0, delaySeconds), fn);
  }

  /** Schedules at an absolute time (not before now). */
  at(time: number, fn: () => void): void {
    const event: TimedEvent = { at: Math.max(time, this.time), seq: this.seq++, fn };
    const heap = this.heap;
    let i = heap.push(event) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = event;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Runs events in order until none is left or the next one is after `until`; returns the events run. */
  run(until = Infinity): number {
    let count = 0;
    while (this.heap.length > 0 && this.heap[0]!.at <= until) {
      this.runNext();
      count++;
    }
    return count;
  }

  /** Runs the next event, if any (tests check invariants between events). */
  runNext(): boolean {
    if (this.heap.length === 0) return false;
    const event = this.pop();
    this.time = event.at;
    event.fn();
    return true;
  }

  private pop(): TimedEvent {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
        if (!before(heap[child]!, last)) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

function before(a: TimedEvent, b: TimedEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
