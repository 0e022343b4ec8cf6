import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chatOperation, completionsOperation, embeddingsOperation } from '../protocols/openai/operations.js';
import { modelCallStages } from './endpoints.js';

test('docs/lifecycle.md names the stages in the order the code runs them', () => {
  const doc = readFileSync(new URL('../../docs/lifecycle.md', import.meta.url), 'utf8');
  const listed = /<!-- stages: (.+) -->/.exec(doc)?.[1]?.split(', ');
  for (const operation of [chatOperation, completionsOperation, embeddingsOperation]) {
    assert.deepEqual(modelCallStages(operation).map((stage) => stage.name), listed, operation.name);
  }
  // The drawing shows them in the same order.
  const drawn = [...doc.matchAll(/^\s+\d+\. (\w+)/gm)].map((match) => match[1]);
  assert.deepEqual(drawn, listed);
});
