/**
 * `tensorrt-node bench` without the command-line parsing: imports trtexec runs, resolves backends
 * and devices against the machine, runs the sweep through a target factory, prints trtexec-style
 * summaries and keeps the results file up to date after every run (so a run that fails or a
 * process that dies midway leaves every finished run on disk).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Capabilities } from '../addon/capabilities.js';
import { writeFileAtomic } from '../core/atomic-write.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { packageVersion } from '../addon/loader.js';
import { environmentFrom } from './environment.js';
import { createModelTargetFactory } from './model-targets.js';
import { describeModelFile } from './model-info.js';
import { checkBenchShapes } from './model-shapes.js';
import { resolveDevices, type BenchOptions } from './options.js';
import {
  RESULTS_SCHEMA_ID,
  RESULTS_SCHEMA_VERSION,
  writeResultsFile,
  type BenchResultsFile,
  type BenchRunResult,
} from './results.js';
import { formatRunSummary } from './summary.js';
import { expandSweep, runSweep } from './sweep.js';
import type { BackendChoice, BenchTargetFactory, SweepPoint } from './target.js';
import { importTrtexecFile } from './trtexec-import.js';

export interface BenchDependencies {
  capabilities: Capabilities;
  /** The factory for a model; defaults to createModelTargetFactory (the InferenceSession seam). */
  factoryFor?: (model: string) => BenchTargetFactory;
  write: (text: string) => void;
  /** argv as typed, recorded in the results file. */
  command?: string[];
}

export interface BenchOutcome {
  results: BenchResultsFile;
  /** True when every run finished; false when one failed (its partial results are in `results`). */
  allSucceeded: boolean;
}

/**
 * Why `--backend auto` picked the backend it did, by backend, for what the results record of each
 * run (an 'auto' run was not "asked for by name"); empty when 'auto' was not asked for, or when the
 * backend it picked was also named.
 */
export function autoBackendReasons(
  choices: readonly BackendChoice[],
  caps: Capabilities,
): Partial<Record<'cpu' | 'tensorrt', string>> {
  if (!choices.includes('auto')) return {};
  const picked = caps.backends.tensorrt.available ? 'tensorrt' : 'cpu';
  if (choices.includes(picked)) return {};
  return {
    [picked]:
      picked === 'tensorrt'
        ? 'chosen by --backend auto: TensorRT is usable here'
        : `chosen by --backend auto: TensorRT is not usable here (${caps.backends.tensorrt.reason ?? 'unknown reason'})`,
  };
}

/** 'auto' becomes tensorrt where TensorRT is usable, else cpu, and says why. */
export function resolveBackends(
  choices: readonly BackendChoice[],
  caps: Capabilities,
  write: (text: string) => void,
): BackendChoice[] {
  const resolved = choices.map((choice): BackendChoice => {
    if (choice !== 'auto') return choice;
    if (caps.backends.tensorrt.available) return 'tensorrt';
    write(
      `--backend auto: using cpu, because TensorRT is not usable here: ${caps.backends.tensorrt.reason ?? 'unknown reason'}\n`,
    );
    return 'cpu';
  });
  return [...new Set(resolved)];
}

export function sweepPoints(options: BenchOptions, caps: Capabilities, write: (text: string) => void): SweepPoint[] {
  const backends = resolveBackends(options.backends, caps, write);
  const devices = backends.includes('tensorrt')
    ? resolveDevices(options.device, caps.devices.length, caps.cuda.diagnosis?.message ?? null)
    : [];
  return expandSweep({
    backends,
    precisions: options.precisions,
    batches: options.batches,
    concurrencies: options.concurrencies,
    devices,
    cudaGraph: options.cudaGraph,
    transfers: options.transfers,
    batcher: options.batcher,
  });
}

export async function runBench(options: BenchOptions, deps: BenchDependencies): Promise<BenchOutcome> {
  const { write } = deps;
  const imported: BenchRunResult[] = options.trtexec.map((file) => importTrtexecFile(file, options.percentiles));
  // Everything that can be refused is refused before anything runs or any file is written.
  let points: SweepPoint[] = [];
  let factory: BenchTargetFactory | null = null;
  if (options.model !== null) {
    // A missing or wrong --shape is an argument error before anything is said or run.
    if (!deps.factoryFor) await checkBenchShapes(options.model, options.batches, options.shapes ?? undefined);
    points = sweepPoints(options, deps.capabilities, write);
    factory = deps.factoryFor
      ? deps.factoryFor(options.model)
      : createModelTargetFactory(options.model, {
          shapes: options.shapes ?? undefined,
          chosenBy: autoBackendReasons(options.backends, deps.capabilities),
        });
  }
  const results: BenchResultsFile = {
    schema: RESULTS_SCHEMA_ID,
    schemaVersion: RESULTS_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    tool: { name: 'tensorrt-node', version: packageVersion, command: deps.command ?? [] },
    environment: environmentFrom(deps.capabilities),
    model: options.model === null ? null : await describeModelFile(options.model),
    options: { ...options },
    overhead: null,
    runs: [...imported],
  };
  const save = async () => {
    if (options.json) await writeResultsFile(options.json, results);
  };
  for (const run of imported) write(formatRunSummary(run) + '\n');
  await save();
  if (factory) {
    if (options.exportTimes) {
      try {
        mkdirSync(options.exportTimes, { recursive: true });
      } catch (error) {
        throw new TensorRTNodeError(
          ErrorCode.IO,
          `Cannot create the --export-times folder ${options.exportTimes}: ${(error as Error).message}`,
          { cause: error, details: { folder: options.exportTimes } },
        );
      }
    }
    await runSweep(factory, points, {
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      minIterations: options.minIterations,
      percentiles: options.percentiles,
      onRun: async ({ result, recorder }, index, total) => {
        results.runs.push(result);
        write(`[${index + 1}/${total}] ${formatRunSummary(result)}\n`);
        await save();
        if (options.exportTimes && recorder) {
          await writeFileAtomic(
            join(options.exportTimes, `${result.id}.json`),
            `${JSON.stringify(recorder.records(), null, 1)}\n`,
            { description: 'iteration times' },
          );
        }
      },
    });
  }
  if (options.json) write(`Results written to ${options.json}\n`);
  return { results, allSucceeded: results.runs.every((run) => run.status === 'ok') };
}
