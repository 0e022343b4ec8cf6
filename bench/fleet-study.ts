/**
 * `node --import tsx bench/fleet-study.ts`: why the strategies' TTFT p99 differ as little (or as
 * much) as they do in `npm run bench:fleet` — the numbers behind "What decides the tail" in
 * docs/simulator.md. Same environment as bench:fleet (trace, window, seeds, scrape interval);
 * BENCH_FLEET_CAPACITY is required (take it from a bench:fleet run); BENCH_FLEET_STUDY_LOAD is
 * the load studied (default 0.8).
 *
 * For each strategy: where the slowest 1 % arrived (which minutes), whether their server and all
 * servers were queuing then, how long they waited for admission against their prefill, and the
 * servers' batch and KV fill at their arrival. Then two bounds no gateway can reach, for scale:
 * the prompt tokens any cache could have served (every block ever seen, one cache), and an
 * oracle router that knows each server's uncached prompt tokens still to prefill exactly and
 * joins the least (with and without its prefix cache). The oracle is written here, on the
 * engines' internals, on purpose: it is a yardstick, not a strategy.
 */
import { VirtualClock } from '../src/sim/clock.js';
import { Engine } from '../src/sim/engine.js';
import { percentile, round } from '../src/sim/stats.js';
import { loadTrace, readSettings, traceRate } from './fleet-common.js';
import { prepareRequests, replay, type ObservedRequest, type PreparedRequest } from './fleet-virtual.js';

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Join-the-least-uncached-prefill-work, on exact engine state. */
function oracle(requests: readonly PreparedRequest[], settings: ReturnType<typeof readSettings>, rate: number, rateOfTrace: number, usePrefix: boolean): { p99: number; hit: number } {
  const clock = new VirtualClock();
  const engines = Array.from({ length: settings.servers }, () => new Engine(settings.profile.engine, clock));
  const pending = new Array<number>(engines.length).fill(0);
  const ttft: number[] = [];
  const scale = rateOfTrace / rate;
  const block = settings.profile.engine.blockSize;
  let index = 0;
  const arrive = () => {
    const request = requests[index]!;
    let best = 0;
    let bestWork = Infinity;
    for (let k = 0; k < engines.length; k++) {
      const uncached = request.promptTokens - (usePrefix ? engines[k]!.kv.cachedPrefix(request.blockHashes) * block : 0);
      if (pending[k]! + uncached < bestWork) {
        bestWork = pending[k]! + uncached;
        best = k;
      }
    }
    const work = bestWork - pending[best]!;
    pending[best]! += work;
    const arrival = clock.now();
    const server = best;
    engines[server]!.submit({
      id: String(index),
      promptTokens: request.promptTokens,
      blockHashes: request.blockHashes,
      outputTokens: request.outputTokens,
      listener: {
        onFirstToken: (at) => {
          ttft.push(at - arrival);
          pending[server]! -= work;
        },
      },
    });
    index++;
    if (index < requests.length) clock.at(requests[index]!.at * scale, arrive);
  };
  clock.at(requests[0]!.at * scale, arrive);
  clock.run();
  let queried = 0;
  let hits = 0;
  for (const engine of engines) {
    queried += engine.counters.prefixQueryTokens;
    hits += engine.counters.prefixHitTokens;
  }
  return { p99: Math.round(percentile(ttft, 99) * 1000), hit: round(hits / queried, 3) };
}

function main(): void {
  const settings = readSettings();
  if (settings.capacity === null) throw new Error('set BENCH_FLEET_CAPACITY (req/s, from a bench:fleet run)');
  const load = Number(process.env.BENCH_FLEET_STUDY_LOAD ?? 0.8);
  if (!(load > 0)) throw new Error('BENCH_FLEET_STUDY_LOAD must be a positive share of the capacity');
  const rate = load * settings.capacity;
  const trace = loadTrace(settings).filter((r) => r.at < settings.window);
  const rateOfTrace = traceRate(trace, settings.window);
  const requests = prepareRequests(trace, settings.workload, settings.profile.engine.blockSize);
  process.stdout.write(`Trace ${settings.trace} ${settings.start}–${settings.start + settings.window} s, ${requests.length} requests at ${round(rate, 2)} req/s (${Math.round(load * 100)} % of ${settings.capacity})\n`);

  const seen = new Set<number>();
  let shareable = 0;
  let total = 0;
  for (const request of requests) {
    let k = 0;
    while (k < request.blockHashes.length && seen.has(request.blockHashes[k]!)) k++;
    shareable += k * settings.profile.engine.blockSize;
    total += request.promptTokens;
    for (const hash of request.blockHashes) seen.add(hash);
  }
  process.stdout.write(`Prompt tokens one cache of every block ever seen would serve: ${Math.round((100 * shareable) / total)} %\n\n`);

  for (const strategy of settings.strategies) {
    const observed: ObservedRequest[] = [];
    const run = replay(requests, { profile: settings.profile, servers: settings.servers, strategy, rate, traceRate: rateOfTrace, scrapeMs: settings.scrapeMs, routerSeed: settings.routerSeed, observe: (r) => observed.push(r) }, load);
    observed.sort((a, b) => b.firstToken - b.arrival - (a.firstToken - a.arrival));
    const tail = observed.slice(0, Math.ceil(observed.length / 100));
    const minutes = new Map<number, number>();
    for (const r of tail) minutes.set(Math.floor(r.arrival / 60), (minutes.get(Math.floor(r.arrival / 60)) ?? 0) + 1);
    const busiest = [...minutes].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([minute, count]) => `minute ${minute}: ${count}`);
    const ownQueued = tail.filter((r) => r.waitingAtArrival[r.server]! > 0).length;
    const allQueued = tail.filter((r) => Math.min(...r.waitingAtArrival) > 0).length;
    const worseThanMin = tail.filter((r) => r.waitingAtArrival[r.server]! > Math.min(...r.waitingAtArrival)).length;
    process.stdout.write(
      `${strategy}: TTFT p99 ${run.result.ttft_p99_ms} ms, hit ${Math.round(run.result.prefix_hit_rate * 100)} %, waiting spread ${run.meanWaitingSpread}\n` +
        `  slowest 1 % (${tail.length}): ${busiest.join(', ')}; own server queuing ${ownQueued}, every server queuing ${allQueued}, own queue longer than the shortest ${worseThanMin}\n` +
        `  waited for admission ${round(mean(tail.map((r) => r.admitted - r.arrival)), 2)} s, prefill ${round(mean(tail.map((r) => r.firstToken - r.admitted)), 2)} s; ` +
        `at arrival their server ran ${round(mean(tail.map((r) => r.runningAtArrival[r.server]!)), 1)} (max_num_seqs ${settings.profile.engine.maxNumSeqs}), KV ${Math.round(100 * mean(tail.map((r) => r.kvAtArrival[r.server]!)))} % full\n`,
    );
  }
  for (const usePrefix of [false, true]) {
    const result = oracle(requests, settings, rate, rateOfTrace, usePrefix);
    process.stdout.write(`oracle (least uncached prefill work${usePrefix ? ', prefix cache known' : ''}): TTFT p99 ${result.p99} ms, hit ${Math.round(result.hit * 100)} %\n`);
  }
}

main();
