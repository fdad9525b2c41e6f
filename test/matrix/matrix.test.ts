/**
 * Runs the bad-input matrix (see ./matrix.ts): every row must fail with its exact class, `code` and
 * message, and never crash the process. CLI rows are also run through main(), which must print
 * `tensorrt-node <command>: <message> [<code>]` on stderr and exit with 2.
 *
 * MATRIX_PRINT=1 prints what each row actually throws instead of asserting (for writing new rows;
 * review every message before pasting it in).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../lib/cli/args.js';
import { loadCommands } from '../../lib/cli/commands/index.js';
import { main } from '../../lib/cli/index.js';
import { inCliTerms } from '../../lib/cli/cli-terms.js';
import { expectError } from '../helpers/expect-error.js';
import { tables } from './cases/index.js';
import { MatrixContext, type Expectation } from './matrix.js';
import { TextSink } from '../helpers/cli.js';

const commands = await loadCommands();

const printOnly = process.env.MATRIX_PRINT === '1';
const context = new MatrixContext();
afterAll(() => context.dispose());

async function check(action: () => unknown, [errorClass, code, message]: Expectation, label: string): Promise<void> {
  if (!printOnly) {
    await expectError(action, errorClass, code, message);
    return;
  }
  try {
    await action();
    console.log(`${label}\n  NO ERROR`);
  } catch (error) {
    const { name, code: actualCode, message: actualMessage } = error as Error & { code?: string };
    console.log(`${label}\n  ${name} ${actualCode}\n  ${JSON.stringify(actualMessage)}`);
  }
}

/** What main() does for a command, without catching: the thrown error itself. */
async function runCommand(argv: string[]): Promise<number> {
  const command = commands.find((candidate) => candidate.name === argv[0]);
  if (!command) throw new Error(`no command ${argv[0]}`);
  const { values, positionals } = parseCommandLine(command, argv.slice(1));
  try {
    return await command.run(values as never, positionals, { stdout: new TextSink(), stderr: new TextSink() });
  } catch (error) {
    // As main() does: library errors about options are said with the command's flags.
    throw inCliTerms(error as Error, command.optionFlags);
  }
}

for (const table of tables) {
  describe(table.surface, () => {
    for (const row of table.rows ?? []) {
      it.skipIf(Boolean(row.skip))(`BAD CALL - ${row.name}`, async () => {
        await check(() => row.call(context), row.expect, `${table.surface}: ${row.name}`);
      });
    }
    for (const row of table.cliRows ?? []) {
      it.skipIf(Boolean(row.skip))(`BAD CALL - tensorrt-node ${row.name}`, async () => {
        const argv = row.argv(context);
        await check(() => runCommand(argv), row.expect, `cli: ${row.name}`);
        if (printOnly) return;
        const stdout = new TextSink();
        const stderr = new TextSink();
        expect(await main(argv, { stdout, stderr })).toBe(2);
        const [, code, message] = row.expect;
        const prefix = `tensorrt-node ${argv[0]}: `;
        const suffix = ` [${code}]\n`;
        expect(stderr.text.startsWith(prefix) && stderr.text.endsWith(suffix), stderr.text).toBe(true);
        const printed = stderr.text.slice(prefix.length, -suffix.length);
        if (typeof message === 'string') expect(printed).toBe(message);
        else expect(printed).toMatch(message);
      });
    }
  });
}

it('has at least 150 cases (issue 10), counted per surface', () => {
  const counts = tables.map((table) => ({
    surface: table.surface,
    cases: (table.rows?.length ?? 0) + (table.cliRows?.length ?? 0),
  }));
  const total = counts.reduce((sum, entry) => sum + entry.cases, 0);
  console.log(
    `bad-input matrix: ${total} cases over ${tables.length} surfaces\n${counts.map((entry) => `  ${String(entry.cases).padStart(3)}  ${entry.surface}`).join('\n')}`,
  );
  expect(total).toBeGreaterThanOrEqual(150);
  for (const entry of counts) expect(entry.cases, entry.surface).toBeGreaterThan(0);
});
