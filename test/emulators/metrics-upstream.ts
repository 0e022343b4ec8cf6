import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small self-hosted inference server stand-in for fleet tests: answers OpenAI chat
 * completions (whole answers) under /v1 and serves a Prometheus page at /metrics whose queue
 * figures the test sets — or makes the page fail or hang, to test stale metrics. Counts the
 * chat requests it served.
 */
export interface MetricsUpstream {
  /** Base URL as a deployment names it, e.g. http://127.0.0.1:1234/v1. */
  readonly baseUrl: string;
  /** Chat requests answered. */
  chats: number;
  /** Scrapes of /metrics answered with the page. */
  scrapes: number;
  /** What /metrics does: serve vLLM-named gauges, answer 500, or never answer. */
  metrics: { mode: 'ok'; waiting: number; running: number; kv: number } | { mode: 'fail' } | { mode: 'hang' };
  close(): Promise<void>;
}

export async function startMetricsUpstream(name: string): Promise<MetricsUpstream> {
  const hanging = new Set<ServerResponse>();
  const upstream = {
    chats: 0,
    scrapes: 0,
    metrics: { mode: 'ok', waiting: 0, running: 0, kv: 0 } as MetricsUpstream['metrics'],
  };
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      const metrics = upstream.metrics;
      if (metrics.mode === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (metrics.mode === 'fail') {
        res.writeHead(500).end('internal error');
        return;
      }
      upstream.scrapes++;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(
        [
          '# TYPE vllm:num_requests_waiting gauge',
          `vllm:num_requests_waiting{model_name="base"} ${metrics.waiting}`,
          '# TYPE vllm:num_requests_running gauge',
          `vllm:num_requests_running{model_name="base"} ${metrics.running}`,
          '# TYPE vllm:kv_cache_usage_perc gauge',
          `vllm:kv_cache_usage_perc{model_name="base"} ${metrics.kv}`,
          '',
        ].join('\n'),
      );
      return;
    }
    if (req.method === 'POST' && req.url === '/v1/chat/completions') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        upstream.chats++;
        const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string };
        const body = JSON.stringify({
          id: `chatcmpl-${name}-${upstream.chats}`,
          object: 'chat.completion',
          created: 1_700_000_000,
          model: request.model,
          choices: [{ index: 0, message: { role: 'assistant', content: `answered by ${name}` }, finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(upstream, {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
