/**
 * The child process of the conformance run: runs the cases whose folders it is given on stdin (one
 * JSON array) and reports each phase and result as one line on stdout, so that the parent knows
 * which case was running if onnxruntime takes the process down, and can go on with the next one.
 */
import { runCase } from './run-case.js';
import type { CorpusCase } from './corpus.js';

import { LINE_PREFIX } from './protocol.js';

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const cases = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CorpusCase[];
  for (const testCase of cases) {
    const record = await runCase(testCase, (phase) =>
      process.stdout.write(`${LINE_PREFIX}${JSON.stringify({ phase, id: testCase.id })}\n`),
    );
    process.stdout.write(`${LINE_PREFIX}${JSON.stringify({ record })}\n`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
