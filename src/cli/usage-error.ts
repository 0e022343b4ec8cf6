/** A mistake in how a command was called; reported in one line, without a stack. */
export class UsageError extends Error {}
