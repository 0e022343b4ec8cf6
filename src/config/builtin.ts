import type { Config } from './schema.js';
import { parseConfig } from './load.js';
import type { Environment } from './env.js';

/**
 * The config used when none is given: `demo` from the in-process simulator, so a fresh checkout
 * answers offline, plus OpenAI's common models when OPENAI_API_KEY is set.
 */
export const BUILTIN_CONFIG_YAML = `
server:
  host: \${STELLWERK_HOST:-127.0.0.1}
  port: \${STELLWERK_PORT:-4000}
auth:
  master_key: \${STELLWERK_MASTER_KEY:-}
governance:
  database_url: \${DATABASE_URL:-}
  redis_url: \${REDIS_URL:-}
  key_pepper: \${STELLWERK_KEY_PEPPER:-}
models:
  - name: demo
    deployments:
      - provider: simulator
        name: simulator
  - name: demo-embedding
    deployments:
      - provider: simulator
        name: simulator-embedding
        model: stellwerk-simulator-embedding
`;

const OPENAI_MODELS = ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small', 'text-embedding-3-large'];

export function builtinConfig(env: Environment = process.env): Config {
  let yaml = BUILTIN_CONFIG_YAML;
  if (env.OPENAI_API_KEY) {
    for (const model of OPENAI_MODELS) {
      yaml += `  - name: ${model}\n    deployments:\n      - provider: openai\n        name: openai/${model}\n        model: ${model}\n`;
    }
  }
  return parseConfig(yaml, '<built-in config>', env);
}
