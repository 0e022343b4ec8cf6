import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

/** The dashboard's texts: every language has exactly the keys of English, each a non-empty text with the same placeholders. */

const DIR = new URL('../../ui/src/messages/', import.meta.url);

function catalog(lang: string): Record<string, string> {
  return JSON.parse(readFileSync(new URL(`${lang}.json`, DIR), 'utf8')) as Record<string, string>;
}

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!).sort();

test('German has the same message keys as English', () => {
  const en = catalog('en');
  const de = catalog('de');
  const missing = Object.keys(en).filter((key) => !(key in de));
  const extra = Object.keys(de).filter((key) => !(key in en));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
});

test('every language file has the keys of English, non-empty texts and the same placeholders', () => {
  const en = catalog('en');
  const languages = readdirSync(DIR).filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length));
  assert.ok(languages.includes('de'), 'German is there');
  for (const lang of languages) {
    const texts = catalog(lang);
    assert.deepEqual(Object.keys(texts).sort(), Object.keys(en).sort(), `${lang}.json has the keys of en.json`);
    for (const [key, text] of Object.entries(texts)) {
      assert.equal(typeof text, 'string', `${lang}:${key}`);
      assert.notEqual(text.trim(), '', `${lang}:${key} is empty`);
      assert.deepEqual(placeholders(text), placeholders(en[key]!), `${lang}:${key} has the placeholders of English`);
    }
  }
});

test('every key the dashboard names in its sources exists', () => {
  const en = catalog('en');
  const sources: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name)) sources.push(readFileSync(path, 'utf8'));
    }
  };
  walk(new URL('../../ui/src/', import.meta.url).pathname);
  const named = new Set(sources.flatMap((source) => [...source.matchAll(/\bt\('([a-z0-9_.-]+)'/g)].map((match) => match[1]!)));
  assert.ok(named.size > 50, 'the sources were read');
  assert.deepEqual([...named].filter((key) => !(key in en)), []);
});
