import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { STELLWERK_NODE_FLAGS } from './node-flags.js';

const root = new URL('../../', import.meta.url);

test('npm start and the stellwerk command start Node with the same flags as the benchmark', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${STELLWERK_NODE_FLAGS.join(' ')} ${pkg.bin.stellwerk} start`);
  const shebang = readFileSync(new URL('src/cli/main.ts', root), 'utf8').split('\n', 1)[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${STELLWERK_NODE_FLAGS.join(' ')}`);
});
