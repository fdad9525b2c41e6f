/**
 * Argument parsing for the CLI on top of node:util parseArgs, with the same error family as the
 * library: unknown options are ERR_UNKNOWN_OPTION with a "did you mean" hint.
 */
import { parseArgs } from 'node:util';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import { didYouMean, suggestFlag } from './flag-hints.js';
import type { Command } from './command.js';

export interface ParsedCommandLine {
  values: Record<string, unknown>;
  positionals: string[];
}

export function parseCommandLine(command: Command, argv: string[]): ParsedCommandLine {
  const known = Object.keys(command.options);
  for (const arg of argv) {
    if (arg === '--') break;
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=')[0]!;
    if (known.includes(name) || (name.startsWith('no-') && known.includes(name.slice(3)))) continue;
    const hint = suggestFlag(name, known);
    throw new ArgumentRangeError(
      `Unknown option --${name} for \`tensorrt-node ${command.name}\`${didYouMean(hint)}. Usage: tensorrt-node ${command.usage}`,
      ErrorCode.UNKNOWN_OPTION,
      { details: { option: name, suggestion: hint?.usage ?? null } },
    );
  }
  try {
    const parsed = parseArgs({
      args: argv,
      options: command.options,
      allowPositionals: command.positionals ?? false,
      strict: true,
      allowNegative: true,
    });
    return { values: parsed.values as Record<string, unknown>, positionals: parsed.positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ArgumentTypeError(`${message}. Usage: tensorrt-node ${command.usage}`, ErrorCode.INVALID_ARGUMENT);
  }
}
