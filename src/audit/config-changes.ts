import type { Config } from '../config/schema.js';

/**
 * What a config reload changed, for the audit log: the names of the top-level sections whose
 * values differ and the model aliases added or removed. Names only: values can hold secrets
 * (master key, upstream keys, the audit secret itself).
 */
export function configChanges(previous: Config, next: Config): { sections: string[]; added: string[]; removed: string[] } {
  const names = new Set([...Object.keys(previous), ...Object.keys(next)]);
  const sections = [...names]
    .filter((name) => JSON.stringify((previous as Record<string, unknown>)[name]) !== JSON.stringify((next as Record<string, unknown>)[name]))
    .sort();
  const before = new Set(previous.models.map((model) => model.name));
  const after = new Set(next.models.map((model) => model.name));
  return {
    sections,
    added: [...after].filter((name) => !before.has(name)).sort(),
    removed: [...before].filter((name) => !after.has(name)).sort(),
  };
}
