/** The native argument checks, fuzzed in a child process (see ../native-child.ts) so that a crash is a failure, not the end of the run. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../../lib/addon/loader.js';
import type { FuzzProperty } from '../harness.js';

export const nativeProperties: FuzzProperty[] = [
  {
    name: 'native: every entry point of the addon throws typed errors for bad arguments, never crashes',
    weight: 12,
    runExternally: (numRuns, seed) =>
      new Promise((resolve) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', join(packageRoot, 'test', 'fuzz', 'native-child.ts'), String(numRuns), String(seed)],
          { cwd: packageRoot, env: process.env },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code, signal) => {
          let report: { runs: number; failure: string | null; calls: Record<string, unknown> } | undefined;
          try {
            report = JSON.parse(stdout) as typeof report;
          } catch {
            report = undefined;
          }
          if (signal || code !== 0 || !report) {
            resolve({
              runs: report?.runs ?? 0,
              failure:
                report?.failure ??
                `the fuzzing child ${signal ? `was killed by ${signal}` : `exited with ${code}`} (seed ${seed}): ${stderr.slice(-2000)}`,
            });
            return;
          }
          resolve({ runs: report.runs, failure: report.failure, details: { calls: report.calls } });
        });
      }),
  },
];
