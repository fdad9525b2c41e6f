import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { ErrorCode, TensorRTNodeError } from '../../lib/core/errors.js';
import { runBench } from '../../lib/bench/bench-run.js';
import { parseBenchOptions } from '../../lib/bench/options.js';
import {
  checkResults,
  loadResultsFile,
  RESULTS_SCHEMA_VERSION,
  resultsSchema,
  serializeResults,
  type BenchResultsFile,
} from '../../lib/bench/results.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { expectError } from '../helpers/expect-error.js';
import { capabilitiesWithoutGpu, workloadFactory } from '../helpers/bench.js';

const fixtures = join(packageRoot, 'test', 'fixtures', 'trtexec');

async function realResults(folder: string): Promise<BenchResultsFile> {
  // A model path for the seam to receive; the injected cpu-workload factory never reads it.
  const model = join(folder, 'stand-in.onnx');
  writeFileSync(model, 'bytes hashed into the results, never parsed');
  const options = parseBenchOptions(
    {
      backend: 'cpu',
      batch: '1,2',
      warmup: '0ms',
      iterations: '20',
      'export-times': join(folder, 'times'),
      trtexec: [join(fixtures, 'trtexec-10.log'), join(fixtures, 'exportTimes-10.json')],
    },
    [model],
  );
  const outcome = await runBench(options, {
    capabilities: capabilitiesWithoutGpu(),
    factoryFor: () => workloadFactory(),
    write: () => {},
  });
  return outcome.results;
}

describe('bench results schema', () => {
  it('is a valid JSON Schema under Ajv strict mode, at the version the code writes', () => {
    const schema = resultsSchema();
    expect(() => new Ajv({ strict: true, allowUnionTypes: true }).compile(schema)).not.toThrow();
    expect((schema.properties as Record<string, { const?: unknown }>).schemaVersion!.const).toBe(RESULTS_SCHEMA_VERSION);
  });

  it('accepts what a real run writes (cpu-workload runs and both trtexec imports), after a JSON round trip', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'bench-schema-'));
    const results = await realResults(folder);
    expect(results.runs.map((run) => `${run.source}:${run.status}`)).toEqual([
      'trtexec:ok',
      'trtexec:ok',
      'tensorrt-node:ok',
      'tensorrt-node:ok',
    ]);
    const file = join(folder, 'results.json');
    writeFileSync(file, serializeResults(results));
    const loaded = loadResultsFile(file);
    expect(loaded.runs[2]!.measurement.iterations).toBe(20);
    expect(loaded.model!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.environment.gpus).toEqual([]);
    expect(loaded.environment.tensorrt.version).toBeNull();
    // --export-times: one trtexec-format array per run; without phases only latencyMs is known
    const times = JSON.parse(readFileSync(join(folder, 'times', 'cpu-fp32-b2-c1.json'), 'utf8')) as Record<string, number>[];
    expect(times).toHaveLength(20);
    expect(Object.keys(times[0]!)).toEqual(['latencyMs']);
    expect(times.every((record) => record.latencyMs! > 0)).toBe(true);
  });

  it('BAD CALL - a file of another schema version is refused, naming the file', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'bench-schema-'));
    const file = join(folder, 'future.json');
    const results = await realResults(folder);
    writeFileSync(file, JSON.stringify({ ...results, schemaVersion: 2 }));
    await expectError(
      () => loadResultsFile(file),
      TensorRTNodeError,
      ErrorCode.RESULTS_SCHEMA,
      `Cannot read results file ${file}: it has results schema version 2, but this tensorrt-node reads version 1; re-run the benchmark, or report it with the tensorrt-node version that wrote it`,
    );
  });

  it('BAD CALL - a truncated file, a foreign JSON file and a file with a damaged field', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'bench-schema-'));
    const good = serializeResults(await realResults(folder));
    const truncated = join(folder, 'truncated.json');
    writeFileSync(truncated, good.slice(0, good.length / 2));
    await expectError(
      () => loadResultsFile(truncated),
      TensorRTNodeError,
      ErrorCode.RESULTS_SCHEMA,
      new RegExp(
        `^Cannot read results file ${truncated}: it is not valid JSON \\(.+\\); the file may be truncated or corrupted$`,
      ),
    );

    const foreign = join(folder, 'package.json');
    writeFileSync(foreign, readFileSync(join(packageRoot, 'package.json')));
    await expectError(
      () => loadResultsFile(foreign),
      TensorRTNodeError,
      ErrorCode.RESULTS_SCHEMA,
      `Cannot read results file ${foreign}: expected "schema": "tensorrt-node/bench-results" but found none (is it a tensorrt-node bench results file?)`,
    );

    const damaged = JSON.parse(good) as BenchResultsFile;
    (damaged.runs[2]!.metrics!.latency as unknown as Record<string, unknown>).median = 'fast';
    delete (damaged.environment.host as Partial<BenchResultsFile['environment']['host']>).cpuModel;
    await expectError(
      () => checkResults(damaged, 'damaged.json'),
      TensorRTNodeError,
      ErrorCode.RESULTS_SCHEMA,
      "Cannot read results file damaged.json: it does not match results schema version 1: /environment/host must have required property 'cpuModel'; /runs/2/metrics/latency/median must be number",
    );

    await expectError(
      () => checkResults([], 'array.json'),
      TensorRTNodeError,
      ErrorCode.RESULTS_SCHEMA,
      'Cannot read results file array.json: it is not a JSON object',
    );
  });

  it('BAD CALL - a results file that does not exist is an I/O error naming it', async () => {
    await expectError(
      () => loadResultsFile('/nonexistent/results.json'),
      TensorRTNodeError,
      ErrorCode.IO,
      /^Cannot read results file \/nonexistent\/results\.json: ENOENT/,
    );
  });

  it('writes Infinity/NaN as null so the file stays JSON', () => {
    const text = serializeResults({ runs: [{ x: Number.POSITIVE_INFINITY, y: Number.NaN }] } as unknown as BenchResultsFile);
    expect(JSON.parse(text)).toEqual({ runs: [{ x: null, y: null }] });
  });
});
