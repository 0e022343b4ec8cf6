/** A write broke a uniqueness rule: a key or team id that exists, or a key hash that exists. */
export class StoreConflictError extends Error {
  readonly code = 'STORE_CONFLICT';
  constructor(
    /** `keys` or `teams`. */
    readonly table: string,
    options?: { cause?: unknown },
  ) {
    super(`a ${table === 'keys' ? 'key' : 'team'} with this id or hash exists already`, options);
    this.name = 'StoreConflictError';
  }
}

/** SQLite's SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY, Postgres's 23505 unique_violation. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
