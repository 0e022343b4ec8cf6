import { LoadAccumulator, runLoad } from '../bench/lib/load.js';
const url = process.argv[2]!;
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });
const into = new LoadAccumulator();
await runLoad({ url, body, connections: 32, durationS: 2, rate: { perSecond: 500, mode: 'paced' } });
await runLoad({ url, body, connections: 32, durationS: Number(process.argv[3] ?? 10), rate: { perSecond: 500, mode: 'paced' } }, into);
const r = into.result();
console.log(`${url}: p50 ${r.latency_ms.p50.toFixed(3)} p90 ${r.latency_ms.p90.toFixed(3)} p99 ${r.latency_ms.p99.toFixed(3)} p999 ${r.latency_ms.p999.toFixed(3)} max ${r.latency_ms.max.toFixed(1)}`);
