import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BEDROCK_CHAT_FIELDS } from './fields.js';

test('docs/providers/bedrock.md lists every field with the handling fields.ts declares', () => {
  const doc = readFileSync(new URL('../../../docs/providers/bedrock.md', import.meta.url), 'utf8');
  const documented: Record<string, string> = {};
  for (const match of doc.matchAll(/^\| `([a-z_]+)` \| (pass|mapped|ignored|rejected) \|/gm)) documented[match[1]!] = match[2]!;
  assert.deepEqual(documented, { ...BEDROCK_CHAT_FIELDS });
});
