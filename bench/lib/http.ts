import { request } from 'node:http';

/**
 * One request on a fresh connection (no agent, `connection: close`), the whole answer as text.
 * For the bench's own checks and set-up calls, not for load: that is autocannon's job.
 */
export function httpText(method: string, url: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: timeoutMs, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Waits until a Stellwerk's request log has nothing left to write (`stellwerk_request_log_queue`
 * on its /metrics reads 0), at most `timeoutMs`; resolves with the milliseconds waited. For the
 * end of a target's slice: under full load the request-log writer falls behind and writes the
 * rest once the load stops, and that work must not fall into the next target's slice, where it
 * would slow that target down and be missing from Stellwerk's own CPU.
 */
export async function requestLogDrained(baseUrl: string, timeoutMs = 10_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const { status, body } = await httpText('GET', `${baseUrl}/metrics`, {}, undefined, timeoutMs);
    const match = /^stellwerk_request_log_queue (\S+)$/m.exec(body);
    if (status !== 200 || match === null) throw new Error(`GET ${baseUrl}/metrics has no stellwerk_request_log_queue (status ${status})`);
    const waited = performance.now() - started;
    if (Number(match[1]) === 0) return waited;
    if (waited > timeoutMs) throw new Error(`the request log of ${baseUrl} still had ${match[1]} rows queued after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
