import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how a command was called; reported in one line, without a stack. */
export class UsageError extends Error {}

/** parseArgs, with an unknown or malformed option reported as a UsageError (one line, exit code 2). */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
