import * as fs from 'node:fs';
import * as path from 'node:path';
import { MirrorConfigError } from '../lib/config/problems';
import { application } from './commands/application';
import { check } from './commands/check';
import { Command, CommandError, Io } from './commands/command';
import { cost } from './commands/cost';
import { render } from './commands/render';
import { validate } from './commands/validate';

/*
 * The mirrorfleet CLI: a table of commands (bin/commands/*.ts), one option parser and one usage
 * text built from the table. Exit codes: 0 done, 1 the input is wrong (config problems, a file
 * that cannot be read or written), 2 the arguments are wrong.
 */

/** Every command, in the order the usage lists them. A new command is a file in bin/commands and a row here. */
export const COMMANDS: readonly Command[] = [validate, render, application, check, cost];

const stdio: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

export function usage(commands: readonly Command[] = COMMANDS): string {
  const synopsis = (c: Command) =>
    [c.name, ...(c.argument ? [c.argument.name] : []), ...Object.entries(c.options).map(([k, o]) => (o.required ? `--${k}${o.value ? ` ${o.value}` : ''}` : `[--${k}${o.value ? ` ${o.value}` : ''}]`))].join(' ');
  // The synopsis on its line, the summary under it: one long command does not push every summary off the screen.
  const lines = commands.map((c) => `  ${synopsis(c)}\n      ${c.summary}`);
  return `usage: mirrorfleet <command> [options]

commands:
${lines.join('\n')}

  mirrorfleet <command> --help       the command's options
  mirrorfleet --version              the version
`;
}

function commandUsage(c: Command): string {
  const options = Object.entries(c.options).map(([k, o]) => {
    const head = `--${k}${o.value ? ` ${o.value}` : ''}`;
    const choices = o.choices ? ` (${o.choices.join(', ')})` : '';
    return `  ${head.padEnd(20)} ${o.help}${choices}${o.required ? '' : ', optional'}`;
  });
  const argument = c.argument ? ` ${c.argument.name}` : '';
  const argumentHelp = c.argument ? `\n  ${c.argument.name.padEnd(20)} ${c.argument.help}` : '';
  return `usage: mirrorfleet ${c.name}${argument} [options]\n\n${c.summary}\n\noptions:${argumentHelp}\n${options.join('\n')}\n`;
}

export function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

const HELP = ['--help', '-h'];

/** Runs one CLI invocation; returns the exit code (later, for a command that talks to the network). */
export function main(argv: readonly string[], io: Io = stdio, commands: readonly Command[] = COMMANDS): number | Promise<number> {
  const bad = (why: string, text = usage(commands)) => {
    io.err(`mirrorfleet: ${why}\n\n${text}`);
    return 2;
  };
  const [name, ...rest] = argv;
  if (name === undefined) return bad('no command given');
  if (HELP.includes(name)) {
    io.out(usage(commands));
    return 0;
  }
  if (name === '--version' || name === '-V') {
    io.out(`mirrorfleet ${version()}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) return bad(name.startsWith('-') ? `unknown option ${name}: give a command first` : `unknown command "${name}"`);
  if (rest.some((a) => HELP.includes(a))) {
    io.out(commandUsage(command));
    return 0;
  }
  const parsed = parseOptions(command, rest);
  if (typeof parsed === 'string') return bad(parsed, commandUsage(command));

  const failed = (e: unknown) => {
    if (e instanceof MirrorConfigError || e instanceof CommandError) {
      io.err(`${e.message}\n`);
      return 1;
    }
    throw e;
  };
  try {
    const code = command.run(parsed, io);
    return typeof code === 'number' ? code : code.catch(failed);
  } catch (e) {
    return failed(e);
  }
}

/** The command's options from argv (`--key VALUE`, `--key=VALUE`, `--flag`), or why they are wrong. */
function parseOptions(command: Command, args: readonly string[]): Record<string, string> | string {
  const options: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(args[i]);
    if (!m && command.argument && !args[i].startsWith('-') && options[command.argument.name] === undefined) {
      options[command.argument.name] = args[i];
      continue;
    }
    if (!m) return args[i].startsWith('-') ? `unknown option ${args[i]} for ${command.name}` : `unexpected argument "${args[i]}"`;
    const [, key, inline] = m;
    const spec = command.options[key];
    if (!spec) return `unknown option --${key} for ${command.name}`;
    if (key in options) return `--${key} given twice`;
    if (spec.value === undefined) {
      if (inline !== undefined) return `--${key} takes no value`;
      options[key] = 'true';
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) return `--${key} needs a value (${spec.value})`;
    if (value === '') return `--${key} needs a value (${spec.value}), not an empty string`;
    if (spec.choices && !spec.choices.includes(value)) return `--${key} is one of ${spec.choices.join(', ')}, not "${value}"`;
    options[key] = value;
  }
  const missing = [
    ...(command.argument && options[command.argument.name] === undefined ? [command.argument.name] : []),
    ...Object.entries(command.options).filter(([k, o]) => o.required && options[k] === undefined).map(([k]) => `--${k}`),
  ];
  if (missing.length > 0) return `${command.name} needs ${missing.join(' and ')}`;
  return options;
}
