/*
 * What a mirrorfleet CLI command declares: its name, one usage line, its options, and what it
 * runs. bin/cli.ts lists the commands in one table, parses the options against each command's
 * declaration and prints the usage from it, so a new command is one file and one table row.
 */

/** Where a command writes: stdout and stderr, replaced by strings in the tests. */
export interface Io {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

export interface CommandOption {
  /** The value's placeholder in the usage (FILE, DIR); undefined for a flag that takes no value. */
  readonly value?: string;
  readonly required?: boolean;
  /** The only values allowed, checked before the command runs. */
  readonly choices?: readonly string[];
  readonly help: string;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** One required argument that is not an option (`check URL-or-HOST`); run() finds it under its name. */
  readonly argument?: { readonly name: string; readonly help: string };
  readonly options: Readonly<Record<string, CommandOption>>;
  /** Returns the exit code: 0 done, 1 the input is wrong (a config problem, a file that cannot be written); a command that talks to the network returns it later. */
  readonly run: (options: Readonly<Record<string, string>>, io: Io) => number | Promise<number>;
}

/** A failure the user can fix (a file that cannot be read or written), printed as one sentence, exit 1. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}
