/** The shape every CLI command has; commands live one per file in ./commands/. */
import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface Command<Values = Record<string, unknown>> {
  name: string;
  /** Usage line after `tensorrt-node`, e.g. `doctor [--json]`. */
  usage: string;
  /** Extra help text: option descriptions, examples. */
  help?: string;
  options: OptionSpec;
  /**
   * The library options this command's flags set (`{ workspace: '--workspace', profiles: '--shape' }`),
   * so that a library error naming `options.workspace` is printed naming `--workspace`.
   */
  optionFlags?: Readonly<Record<string, string>>;
  /** Whether positional arguments are accepted. */
  positionals?: boolean;
  /** Returns the process exit code. */
  run(values: Values, positionals: string[], context: CommandContext): Promise<number>;
}
