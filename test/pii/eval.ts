import { detectPii } from '../../src/guard/pii/detect.js';
import { CHECKSUM_TYPES, PII_TYPES, type PiiType } from '../../src/guard/pii/types.js';
import { evaluationSet, type Sample } from './eval-set.js';

/**
 * `npm run eval:pii`: precision and recall per type on the labelled set (test/pii/eval-set.ts).
 * A detection counts when type and exact text agree with a label. `--nlp` adds compromise.
 */

export interface TypeScore {
  tp: number;
  fp: number;
  fn: number;
}

export function evaluate(samples: readonly Sample[], nlp = false): Map<PiiType, TypeScore> {
  const scores = new Map<PiiType, TypeScore>(PII_TYPES.map((type) => [type, { tp: 0, fp: 0, fn: 0 }]));
  for (const sample of samples) {
    const found = detectPii(sample.text, { nlp }).map((d) => `${d.type}\u0000${sample.text.slice(d.start, d.end)}`);
    const expected = sample.labels.map((label) => `${label.type}\u0000${label.value}`);
    for (const item of found) {
      const score = scores.get(item.split('\u0000')[0] as PiiType)!;
      if (expected.includes(item)) score.tp++;
      else score.fp++;
    }
    for (const item of expected) if (!found.includes(item)) scores.get(item.split('\u0000')[0] as PiiType)!.fn++;
  }
  return scores;
}

export function precision(score: TypeScore): number {
  return score.tp + score.fp === 0 ? 1 : score.tp / (score.tp + score.fp);
}

export function recall(score: TypeScore): number {
  return score.tp + score.fn === 0 ? 1 : score.tp / (score.tp + score.fn);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const nlp = process.argv.includes('--nlp');
  const samples = evaluationSet();
  const scores = evaluate(samples, nlp);
  console.log(`PII evaluation: ${samples.length} sentences (English and German)${nlp ? ', with compromise' : ''}\n`);
  console.log('type               kind       tp    fp    fn   precision  recall');
  let failed = false;
  for (const [type, score] of scores) {
    const checksum = CHECKSUM_TYPES.includes(type);
    const p = precision(score);
    const r = recall(score);
    const ok = checksum ? p >= 0.95 && r >= 0.95 : r >= 0.85;
    if (!ok) failed = true;
    console.log(`${type.padEnd(18)} ${(checksum ? 'checksum' : 'context').padEnd(9)} ${String(score.tp).padStart(4)}  ${String(score.fp).padStart(4)}  ${String(score.fn).padStart(4)}   ${p.toFixed(3).padStart(8)}  ${r.toFixed(3).padStart(6)}${ok ? '' : '  below target'}`);
  }
  process.exitCode = failed ? 1 : 0;
}
