#!/usr/bin/env node
/** The `tensorrt-node` command line. */
import { pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { isTensorRTNodeError } from '../core/errors.js';
import { packageVersion } from '../addon/loader.js';
import { parseCommandLine } from './args.js';
import { inCliTerms } from './cli-terms.js';
import type { Command, CommandContext } from './command.js';
import { commandEntries as commands, type CommandEntry } from './commands/index.js';
import { closestMatch } from '../core/validate.js';

function usage(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    `tensorrt-node ${packageVersion}: TensorRT and CUDA for Node.js`,
    '',
    'Usage: tensorrt-node <command> [options]',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Run `tensorrt-node <command> --help` for the options of one command.',
    '',
  ].join('\n');
}

function commandHelp(entry: CommandEntry, command: Command<never>): string {
  return [`Usage: tensorrt-node ${command.usage}`, '', entry.summary, ...(command.help ? ['', command.help] : []), ''].join('\n');
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(
  argv: string[],
  context: CommandContext = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    context.stdout.write(usage());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    context.stdout.write(`${packageVersion}\n`);
    return 0;
  }
  const entry = commands.find((candidate) => candidate.name === name);
  if (!entry) {
    const hint = closestMatch(
      name,
      commands.map((candidate) => candidate.name),
    );
    context.stderr.write(
      `tensorrt-node: unknown command ${JSON.stringify(name)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}\n\n${usage()}`,
    );
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    context.stdout.write(commandHelp(entry, command));
    return 0;
  }
  try {
    const { values, positionals } = parseCommandLine(command, rest);
    return await command.run(values as never, positionals, context);
  } catch (error) {
    if (isTensorRTNodeError(error)) {
      context.stderr.write(`tensorrt-node ${command.name}: ${inCliTerms(error, command.optionFlags).message} [${error.code}]\n`);
      return 2;
    }
    throw error;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
