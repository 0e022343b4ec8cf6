import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, parseConfig } from './load.js';
import { builtinConfig } from './builtin.js';

const ISSUE_EXAMPLE = `server: { host: 127.0.0.1, port: 4000 }
auth: { master_key: \${STELLWERK_MASTER_KEY} }      # optional in this issue
models:
  - name: chat-default                               # the alias clients send as "model"
    deployments:
      - provider: openai-compatible                  # also: openai, simulator
        base_url: http://127.0.0.1:8000/v1
        model: meta-llama/Llama-3.1-8B-Instruct      # the upstream's model id
        api_key: \${VLLM_KEY:-}
`;

function problems(text: string, env: Record<string, string> = {}) {
  try {
    parseConfig(text, 'gateway.yaml', env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('the documented example config loads, with ${VAR} in flow mappings', () => {
  const config = parseConfig(ISSUE_EXAMPLE, 'gateway.yaml', { STELLWERK_MASTER_KEY: 'master-key-1' });
  assert.equal(config.auth.master_key, 'master-key-1');
  assert.equal(config.server.port, 4000);
  const deployment = config.models[0]!.deployments[0]!;
  assert.equal(deployment.provider, 'openai-compatible');
  assert.equal(deployment.provider === 'openai-compatible' && deployment.api_key, '');
  assert.equal(deployment.timeouts.connect_ms, 5000);
});

test('a missing variable is an error naming file, line, field and variable', () => {
  const [problem, ...rest] = problems(ISSUE_EXAMPLE);
  assert.equal(rest.length, 0);
  assert.equal(problem!.line, 2);
  assert.equal(problem!.field, 'auth.master_key');
  assert.match(problem!.message, /STELLWERK_MASTER_KEY is not set/);
});

test('an unquoted value that is one reference takes the type of its content', () => {
  const config = parseConfig('server:\n  port: ${P}\nmodels:\n  - name: a\n    deployments: [{ provider: simulator }]\n', 'x', { P: '4100' });
  assert.equal(config.server.port, 4100);
});

test('a value holding YAML syntax cannot change the document', () => {
  const config = parseConfig(
    'models:\n  - name: a\n    deployments:\n      - provider: openai-compatible\n        base_url: http://h/v1\n        model: m\n        api_key: ${K}\n',
    'x',
    { K: 'a: b # c' },
  );
  const deployment = config.models[0]!.deployments[0]!;
  assert.equal(deployment.provider === 'openai-compatible' && deployment.api_key, 'a: b # c');
});

test('unknown keys are errors located at the key', () => {
  const [problem] = problems('server:\n  port: 4000\n  hots: x\nmodels:\n  - name: a\n    deployments: [{ provider: simulator }]\n');
  assert.equal(problem!.line, 3);
  assert.equal(problem!.column, 3);
  assert.equal(problem!.field, 'server.hots');
});

test('every invalid field is reported with its line', () => {
  const text = `models:
  - name: chat
    deployments:
      - provider: nope
      - provider: openai-compatible
        base_url: ftp://example
        model: 3
      - provider: openai-compatible
        model: x
`;
  const found = problems(text).map((problem) => `${problem.line}:${problem.field}`);
  assert.deepEqual(found.sort(), [
    '4:models[0].deployments[0].provider',
    '6:models[0].deployments[1].base_url',
    '7:models[0].deployments[1].model',
    '8:models[0].deployments[2].base_url',
  ]);
});

test('duplicate aliases and deployment names are errors', () => {
  const text = `models:
  - name: a
    deployments: [{ provider: simulator, name: s }]
  - name: a
    deployments: [{ provider: simulator, name: s }]
`;
  const found = problems(text).map((problem) => `${problem.line}:${problem.field}`);
  assert.deepEqual(found.sort(), ['4:models[1].name', '5:models[1].deployments[0].name']);
});

test('YAML syntax errors are located', () => {
  const [problem] = problems('models:\n  - name: [unclosed\n');
  assert.equal(problem!.source, 'gateway.yaml');
  assert.ok(problem!.line !== null && problem!.line >= 2);
});

test('a config needs at least one model, a model at least one deployment', () => {
  assert.equal(problems('models: []\n')[0]!.field, 'models');
  assert.equal(problems('models:\n  - name: a\n    deployments: []\n')[0]!.field, 'models[0].deployments');
});

test('a short master key is refused', () => {
  assert.equal(problems('auth: { master_key: short }\nmodels:\n  - name: a\n    deployments: [{ provider: simulator }]\n')[0]!.field, 'auth.master_key');
});

test('a missing file is a ConfigError naming the file', () => {
  assert.throws(() => loadConfigFile('/nonexistent/stellwerk.yaml'), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^\/nonexistent\/stellwerk\.yaml: file not found$/);
    return true;
  });
});

test('loadConfigFile reads from disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stellwerk-config-'));
  const path = join(dir, 'gateway.yaml');
  writeFileSync(path, 'models:\n  - name: demo\n    deployments: [{ provider: simulator, ttft_ms: 0 }]\n');
  assert.equal(loadConfigFile(path, {}).models[0]!.name, 'demo');
});

test('the built-in config serves demo from the simulator, and OpenAI models only with a key', () => {
  const offline = builtinConfig({});
  assert.deepEqual(offline.models.map((model) => model.name), ['demo', 'demo-embedding']);
  assert.equal(offline.models[0]!.deployments[0]!.provider, 'simulator');
  const online = builtinConfig({ OPENAI_API_KEY: 'sk-test-123456' });
  assert.ok(online.models.some((model) => model.name === 'gpt-4o-mini' && model.deployments[0]!.provider === 'openai'));
  assert.equal(builtinConfig({ STELLWERK_PORT: '4555' }).server.port, 4555);
});
