import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logBodiesFor, privacyPolicyFor, residencyOf } from './data-policy.js';
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

test('a team’s data_policy column is read first, metadata.data_policy only for teams written before it', () => {
  const key = { id: 'k', data_policy: null } as unknown as KeyRecord;
  const team = (columns: Record<string, unknown>) => ({ id: 't', metadata: {}, ...columns }) as unknown as TeamRecord;
  const column = { kind: 'key', key, team: team({ data_policy: { residency: ['eu'] }, metadata: { data_policy: { residency: ['us'] } } }) } as const;
  assert.equal(residencyOf(column)!.allows('eu'), true);
  assert.equal(residencyOf(column)!.allows('us'), false);
  const legacy = { kind: 'key', key, team: team({ data_policy: null, metadata: { data_policy: { residency: ['us'] } } }) } as const;
  assert.equal(residencyOf(legacy)!.allows('us'), true);
});

test('log_bodies: the key’s setting wins over the team’s; only exactly true turns it on', () => {
  const withTeam = (keyPolicy: Record<string, unknown> | null, teamPolicy: Record<string, unknown> | null): Identity => ({
    kind: 'key',
    key: { id: 'k', data_policy: keyPolicy } as unknown as KeyRecord,
    team: { id: 't', metadata: {}, data_policy: teamPolicy } as unknown as TeamRecord,
  });
  assert.equal(logBodiesFor(withTeam(null, { log_bodies: true })), true);
  assert.equal(logBodiesFor(withTeam({ log_bodies: false }, { log_bodies: true })), false);
  assert.equal(logBodiesFor(withTeam({ log_bodies: true }, null)), true);
  assert.equal(logBodiesFor(withTeam({ log_bodies: 'yes' }, null)), false);
  assert.equal(logBodiesFor(withTeam(null, null)), false);
  assert.equal(logBodiesFor({ kind: 'master' }), false);
});
