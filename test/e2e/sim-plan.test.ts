import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli } from '../helpers/cli.js';

/**
 * 400 requests (1,000 prompt and 50 output tokens) at 3.6 per second: about 1.5 × what one L4
 * server sustains on them (2.4/s in the engine's model), so one is swamped and two suffice.
 */
function writeTrace(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stellwerk-sim-plan-'));
  const lines = ['TIMESTAMP,ContextTokens,GeneratedTokens'];
  for (let i = 0; i < 400; i++) lines.push(`${(i / 3.6).toFixed(4)},1000,50`);
  const path = join(dir, 'trace.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { dir, path };
}

test('stellwerk sim plan: prints the table and the smallest fleet that meets the SLO', async () => {
  const { dir, path } = writeTrace();
  try {
    const cli = spawnCli(['sim', 'plan', '--trace', path, '--profile', 'l4-llama3-8b', '--slo-ttft-p99', '2s', '--max-servers', '4', '--no-prefix-sharing']);
    assert.equal(await cli.exited(), 0, cli.stderr.join('\n'));
    const out = cli.stdout.join('\n');
    assert.match(out, /400 requests over 110\.8 s/);
    assert.match(out, /servers\s+ttft p50 ms\s+ttft p99 ms/);
    const rows = cli.stdout.filter((line) => /^\s+\d+\s+\d+/.test(line));
    assert.equal(rows.length, 2, out);
    assert.match(out, /\n2 servers meet the SLO\./);

    const tooFew = spawnCli(['sim', 'plan', '--trace', path, '--profile', 'l4-llama3-8b', '--slo-ttft-p99', '2000ms', '--max-servers', '1', '--no-prefix-sharing']);
    assert.equal(await tooFew.exited(), 1);
    assert.match(tooFew.stdout.join('\n'), /No fleet of up to 1 servers meets the SLO\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stellwerk sim: bad arguments are one-line usage errors (exit 2)', async () => {
  for (const [args, message] of [
    [['sim', 'plan', '--profile', 'l4-llama3-8b', '--slo-ttft-p99', '2s'], /--trace FILE is required/],
    [['sim', 'plan', '--trace', '/nonexistent.csv', '--profile', 'l4-llama3-8b', '--slo-ttft-p99', '2s'], /--trace: cannot read \/nonexistent.csv/],
    [['sim', 'serve', '--profile', 'b200-llama9'], /unknown profile "b200-llama9"/],
    [['sim', 'plan', '--trace', 'x', '--profile', 'l4-llama3-8b', '--slo-ttft-p99', 'soon'], /duration like 2s/],
  ] as const) {
    const cli = spawnCli([...args]);
    assert.equal(await cli.exited(), 2, cli.stdout.join('\n'));
    assert.match(cli.stderr.join('\n'), message);
  }
});

test('stellwerk sim serve: prints one URL per server, each answering /v1/models', async () => {
  const cli = spawnCli(['sim', 'serve', '--profile', 'h100-llama3-8b', '--port', '0', '--count', '2']);
  try {
    const deadline = Date.now() + 20_000;
    while (cli.stdout.filter((line) => line.startsWith('http://')).length < 2) {
      if (Date.now() > deadline) assert.fail(`no URLs: ${cli.stdout.join('\n')} ${cli.stderr.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const urls = cli.stdout.filter((line) => line.startsWith('http://'));
    assert.notEqual(urls[0], urls[1]);
    for (const url of urls) {
      const models = (await (await fetch(`${url}/models`)).json()) as { data: { id: string }[] };
      assert.equal(models.data[0]!.id, 'meta-llama/Llama-3.1-8B-Instruct');
    }
  } finally {
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited(), 0);
  }
});
