import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECKSUM_TYPES } from '../../src/guard/pii/types.js';
import { evaluate, precision, recall } from './eval.js';
import { evaluationSet } from './eval-set.js';

test('the labelled evaluation set meets the targets (checksum types ≥ 0.95/0.95, names and addresses recall ≥ 0.85)', () => {
  for (const [type, score] of evaluate(evaluationSet(15, 7))) {
    if (CHECKSUM_TYPES.includes(type)) {
      assert.ok(precision(score) >= 0.95 && recall(score) >= 0.95, `${type}: ${JSON.stringify(score)}`);
    } else {
      assert.ok(recall(score) >= 0.85, `${type}: ${JSON.stringify(score)}`);
    }
  }
});
