import { readFileSync } from 'node:fs';

/** Linux's USER_HZ; /proc/<pid>/stat counts CPU time in these ticks. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessUsage {
  /** Peak VmRSS over the samples, in MiB; null where /proc is not available. */
  readonly rss_peak_mb: number | null;
  /** VmRSS at the first sample, in MiB. */
  readonly rss_start_mb: number | null;
  /** CPU time (user + system) over wall time, in percent of one core. */
  readonly cpu_percent: number | null;
  /**
   * The same for the process's main thread alone: a Node server's event loop, which serves every
   * request on one core however many cores the machine has (its other threads: V8's helpers,
   * libuv's pool, worker threads such as Stellwerk's request-log writer).
   */
  readonly loop_cpu_percent: number | null;
  readonly samples: number;
}

/**
 * Samples one process's resident memory (VmRSS from /proc/<pid>/status) and CPU time (from
 * /proc/<pid>/stat) while a load runs. `start`/`pause` may alternate (a case measured in
 * slices); `result` covers all of them.
 */
export class ProcessSampler {
  private timer: NodeJS.Timeout | null = null;
  private peakKb: number | null = null;
  private startKb: number | null = null;
  private samples = 0;
  private segmentTicks: number | null = null;
  private segmentLoopTicks: number | null = null;
  private segmentStart = 0;
  private ticks: number | null = 0;
  private loopTicks: number | null = 0;
  private seconds = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.segmentStart = performance.now();
    this.segmentTicks = cpuTicks(this.pid);
    this.segmentLoopTicks = cpuTicks(this.pid, this.pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  pause(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const endTicks = cpuTicks(this.pid);
    const endLoopTicks = cpuTicks(this.pid, this.pid);
    this.seconds += (performance.now() - this.segmentStart) / 1000;
    this.ticks = addSegment(this.ticks, this.segmentTicks, endTicks);
    this.loopTicks = addSegment(this.loopTicks, this.segmentLoopTicks, endLoopTicks);
  }

  result(): ProcessUsage {
    this.pause();
    const percent = (ticks: number | null) => (ticks === null || this.seconds <= 0 ? null : round((ticks / CLOCK_TICKS_PER_SECOND / this.seconds) * 100, 1));
    return {
      rss_peak_mb: this.peakKb === null ? null : round(this.peakKb / 1024, 1),
      rss_start_mb: this.startKb === null ? null : round(this.startKb / 1024, 1),
      cpu_percent: percent(this.ticks),
      loop_cpu_percent: percent(this.loopTicks),
      samples: this.samples,
    };
  }

  private sample(): void {
    const kb = rssKb(this.pid);
    if (kb === null) return;
    this.samples++;
    this.startKb ??= kb;
    if (this.peakKb === null || kb > this.peakKb) this.peakKb = kb;
  }
}

export function rssKb(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

function addSegment(total: number | null, start: number | null, end: number | null): number | null {
  return total === null || start === null || end === null ? null : total + end - start;
}

/** CPU ticks (user + system) of a process, or of one of its threads (`tid`; the main thread's is the pid). */
export function cpuTicks(pid: number, tid?: number): number | null {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after "(comm)": state is the first, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export interface MachineCpu {
  /** CPU used by processes other than the benchmark's own (its children and itself), in % of one core. */
  readonly other_cpu_percent: number | null;
  /** CPU time the hypervisor gave to other guests, in % of one core. */
  readonly steal_percent: number | null;
}

/**
 * Whole-machine CPU accounting over a case (from /proc/stat), to tell a quiet run from one
 * that shared the machine with something else: on a small machine that moves the numbers more
 * than most changes to the code. `start`/`pause` may alternate, like ProcessSampler's.
 */
export class MachineCpuMeter {
  private running = false;
  private segment: CpuSnapshot | null = null;
  private segmentStart = 0;
  private other: number | null = 0;
  private steal: number | null = 0;
  private seconds = 0;

  constructor(private readonly pids: () => readonly number[]) {}

  start(): void {
    this.running = true;
    this.segmentStart = performance.now();
    this.segment = this.snapshot();
  }

  pause(): void {
    if (!this.running) return;
    this.running = false;
    const end = this.snapshot();
    this.seconds += (performance.now() - this.segmentStart) / 1000;
    if (this.segment === null || end === null || this.other === null || this.steal === null) {
      this.other = this.steal = null;
    } else {
      this.other += end.busy - this.segment.busy - (end.ours - this.segment.ours);
      this.steal += end.steal - this.segment.steal;
    }
  }

  result(): MachineCpu {
    this.pause();
    if (this.other === null || this.steal === null || this.seconds <= 0) return { other_cpu_percent: null, steal_percent: null };
    const percent = (ticks: number) => round((ticks / CLOCK_TICKS_PER_SECOND / this.seconds) * 100, 1);
    return { other_cpu_percent: Math.max(0, percent(this.other)), steal_percent: percent(this.steal) };
  }

  private snapshot(): CpuSnapshot | null {
    const ticks = machineTicks();
    if (ticks === null) return null;
    // irq and softirq are left out, as they are not charged to any process and are mostly the
    // benchmark's own loopback traffic.
    let ours = cpuTicks(process.pid) ?? 0;
    for (const pid of this.pids()) ours += cpuTicks(pid) ?? 0;
    return { busy: ticks.user + ticks.nice + ticks.system, steal: ticks.steal, ours };
  }
}

interface CpuSnapshot {
  readonly busy: number;
  readonly steal: number;
  readonly ours: number;
}

/** The machine's CPU time in ticks by kind, summed over its cores (the first line of /proc/stat). */
export interface MachineTicks {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly steal: number;
}

export function machineTicks(): MachineTicks | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu user nice system idle iowait irq softirq steal …
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    return { user: f[0] ?? 0, nice: f[1] ?? 0, system: f[2] ?? 0, idle: f[3] ?? 0, iowait: f[4] ?? 0, steal: f[7] ?? 0 };
  } catch {
    return null;
  }
}
