import { test } from 'node:test';
import assert from 'node:assert/strict';
import { privacyPolicyFor, residencyOf } from './data-policy.js';
import type { Identity } from './keys.js';
import type { KeyRecord, TeamRecord } from './types.js';

function identity(keyPolicy: Record<string, unknown> | null, teamPolicy: Record<string, unknown> | null): Identity {
  const key = { id: 'k', data_policy: keyPolicy } as unknown as KeyRecord;
  const team = teamPolicy === null ? null : ({ id: 't', metadata: { data_policy: teamPolicy } } as unknown as TeamRecord);
  return { kind: 'key', key, team };
}

test('privacy: the key overrides the team, the team the alias, field by field', () => {
  const policy = privacyPolicyFor(identity({ privacy: { mode: 'redact' } }, { privacy: { mode: 'block', types: ['iban'], thresholds: { iban: 0.9 } } }), {
    mode: 'detect',
    thresholds: { person: 0.8 },
  });
  assert.deepEqual(policy, { mode: 'redact', types: ['iban'], thresholds: { person: 0.8, iban: 0.9 }, nlp: false });
  assert.equal(privacyPolicyFor({ kind: 'anonymous' }, undefined), null);
  assert.equal(privacyPolicyFor({ kind: 'master' }, { mode: 'block' })?.mode, 'block');
});

test('privacy: an invalid stored policy refuses the request', () => {
  assert.throws(() => privacyPolicyFor(identity({ privacy: { mode: 'shred' } }, null), undefined), /invalid/);
});

test('residency: key and team lists must both allow the region; a broken list allows nothing', () => {
  const both = residencyOf(identity({ residency: ['eu', 'on-prem'] }, { residency: ['eu'] }))!;
  assert.equal(both.allows('eu'), true);
  assert.equal(both.allows('on-prem'), false);
  assert.equal(both.allows(null), false);
  assert.equal(residencyOf(identity({ residency: 'eu' }, null))!.allows('eu'), false);
  assert.equal(residencyOf(identity(null, null)), null);
});
