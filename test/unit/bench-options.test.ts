import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError, CudaError, ErrorCode } from '../../lib/core/errors.js';
import { parseBenchOptions, resolveDevices, type BenchOptionValues } from '../../lib/bench/options.js';
import { sweepPoints } from '../../lib/bench/bench-run.js';
import { expectErrorSync } from '../helpers/expect-error.js';
import { capabilitiesWithoutGpu, capabilitiesWithTwoGpus } from '../helpers/bench.js';

const folder = mkdtempSync(join(tmpdir(), 'bench-options-'));
const model = join(folder, 'model.onnx');
writeFileSync(model, 'not parsed by option validation');
const parse = (values: BenchOptionValues, positionals: string[] = [model]) => parseBenchOptions(values, positionals);
const bad = (
  values: BenchOptionValues,
  errorClass: typeof ArgumentRangeError | typeof ArgumentTypeError,
  message: string,
  positionals?: string[],
) => expectErrorSync(() => parse(values, positionals), errorClass, ErrorCode.INVALID_ARGUMENT, message);

describe('bench options', () => {
  it('fills trtexec defaults: 200 ms warm-up, 3 s, at least 10 iterations, p90/95/99/99.9', () => {
    expect(parse({})).toEqual({
      model,
      backends: ['auto'],
      precisions: ['fp32'],
      batches: [1],
      concurrencies: [1],
      device: [0],
      warmupMs: 200,
      durationMs: 3000,
      minIterations: 10,
      percentiles: [90, 95, 99, 99.9],
      cudaGraph: true,
      transfers: true,
      batcher: false,
      shapes: null,
      json: null,
      exportTimes: null,
      trtexec: [],
    });
  });

  it('parses sweeps, durations, percentiles, switches and devices', () => {
    const options = parse({
      backend: 'tensorrt,cpu',
      precision: 'fp32, fp16,int8',
      batch: '1,8,32,8',
      concurrency: '1,4,16',
      device: 'all',
      warmup: '1.5s',
      duration: '2m',
      iterations: '500',
      percentile: '50,99.99',
      'cuda-graph': 'off',
      transfers: 'off',
      batcher: true,
      json: 'out.json',
      'export-times': 'times',
    });
    expect(options).toMatchObject({
      backends: ['tensorrt', 'cpu'],
      precisions: ['fp32', 'fp16', 'int8'],
      batches: [1, 8, 32],
      concurrencies: [1, 4, 16],
      device: 'all',
      warmupMs: 1500,
      durationMs: 120_000,
      minIterations: 500,
      percentiles: [50, 99.99],
      cudaGraph: false,
      transfers: false,
      batcher: true,
      json: 'out.json',
      exportTimes: 'times',
    });
    expect(parse({ device: '0,1' }).device).toEqual([0, 1]);
    expect(parse({ shape: ['x:1x3x320x320', 'mask:1x320'] }).shapes).toEqual({ x: [1, 3, 320, 320], mask: [1, 320] });
    bad(
      { shape: ['x:1x3xNx320'] },
      ArgumentTypeError,
      'Expected NAME:DIMxDIM... (e.g. x:1x3x320x320) for --shape but received "x:1x3xNx320"',
    );
    expect(parse({ warmup: '250ms', duration: '0s' })).toMatchObject({ warmupMs: 250, durationMs: 0 });
    expect(parse({ duration: '1h' }).durationMs).toBe(3_600_000);
  });

  it('--iterations alone bounds the run by count; with --duration both bounds apply', () => {
    expect(parse({ iterations: '50' })).toMatchObject({ minIterations: 50, durationMs: 0 });
    expect(parse({ iterations: '50', duration: '1s' })).toMatchObject({ minIterations: 50, durationMs: 1000 });
    // As --help says: "0 with --iterations bounds by count" (a bare 0 needs no unit).
    expect(parse({ iterations: '50', duration: '0' })).toMatchObject({ minIterations: 50, durationMs: 0 });
    expect(parse({ warmup: '0', duration: '0' })).toMatchObject({ warmupMs: 0, durationMs: 0, minIterations: 10 });
  });

  it('needs no model when only importing trtexec runs', () => {
    expect(parse({ trtexec: ['a.json'] }, []).model).toBeNull();
  });

  it('BAD CALL - durations out of range or without a unit', () => {
    bad(
      { warmup: '200' },
      ArgumentRangeError,
      'Expected a duration such as 250ms, 3s, 1.5m or 1h30m for --warmup but received "200" of type string',
    );
    bad(
      { duration: '3h' },
      ArgumentRangeError,
      'Expected a duration between 0ms and 1h for --duration but received "3h" of type string',
    );
    bad(
      { duration: '-1s' },
      ArgumentRangeError,
      'Expected a duration such as 250ms, 3s, 1.5m or 1h30m for --duration but received "-1s" of type string',
    );
    bad(
      { warmup: '2m' },
      ArgumentRangeError,
      'Expected a duration between 0ms and 1m for --warmup but received "2m" of type string',
    );
    bad(
      { duration: '61m' },
      ArgumentRangeError,
      'Expected a duration between 0ms and 1h for --duration but received "61m" of type string',
    );
  });

  it('BAD CALL - percentiles out of range or malformed', () => {
    bad(
      { percentile: '90,101' },
      ArgumentRangeError,
      'Expected percentiles between 0 and 100 (comma-separated) for --percentile but received "101" of type string',
    );
    bad(
      { percentile: '-5' },
      ArgumentRangeError,
      'Expected percentiles between 0 and 100 (comma-separated) for --percentile but received "-5" of type string',
    );
    bad(
      { percentile: 'p99' },
      ArgumentRangeError,
      'Expected percentiles between 0 and 100 (comma-separated) for --percentile but received "p99" of type string',
    );
    bad(
      { percentile: '90,,99' },
      ArgumentRangeError,
      'Expected a comma-separated list of percentiles between 0 and 100 for --percentile but received "90,,99" of type string',
    );
  });

  it('BAD CALL - batch sizes, concurrencies and iterations that are not positive integers in range', () => {
    bad(
      { batch: '0' },
      ArgumentRangeError,
      'Expected positive integers <= 4096 (comma-separated) for --batch but received "0" of type string',
    );
    bad(
      { batch: '1,8.5' },
      ArgumentRangeError,
      'Expected positive integers <= 4096 (comma-separated) for --batch but received "8.5" of type string',
    );
    bad(
      { batch: '8192' },
      ArgumentRangeError,
      'Expected positive integers <= 4096 (comma-separated) for --batch but received "8192" of type string',
    );
    bad(
      { concurrency: '4,' },
      ArgumentRangeError,
      'Expected a comma-separated list of positive integers <= 1024 for --concurrency but received "4," of type string',
    );
    bad(
      { concurrency: '2000' },
      ArgumentRangeError,
      'Expected positive integers <= 1024 (comma-separated) for --concurrency but received "2000" of type string',
    );
    bad(
      { iterations: 'many' },
      ArgumentRangeError,
      'Expected a positive integer <= 1000000000 for --iterations but received "many" of type string',
    );
    bad(
      { iterations: '0' },
      ArgumentRangeError,
      'Expected a positive integer <= 1000000000 for --iterations but received "0" of type string',
    );
  });

  it('BAD CALL - unknown backends, precisions, switch values and device specs, with a suggestion when close', () => {
    bad(
      { backend: 'tensort' },
      ArgumentRangeError,
      'Expected one of "auto", "tensorrt", "cpu" for --backend but received "tensort" of type string (did you mean "tensorrt"?)',
    );
    bad(
      { backend: 'onnxruntime' },
      ArgumentRangeError,
      'Expected one of "auto", "tensorrt", "cpu" for --backend but received "onnxruntime" of type string',
    );
    bad(
      { precision: 'fp8' },
      ArgumentRangeError,
      'Expected one of "fp32", "fp16", "int8" for --precision but received "fp8" of type string',
    );
    bad(
      { precision: 'fp32,fp61' },
      ArgumentRangeError,
      'Expected one of "fp32", "fp16", "int8" for --precision but received "fp61" of type string (did you mean "fp16"?)',
    );
    bad(
      { 'cuda-graph': 'yes' },
      ArgumentRangeError,
      'Expected one of "on", "off" for --cuda-graph but received "yes" of type string',
    );
    bad(
      { transfers: 'of' },
      ArgumentRangeError,
      'Expected one of "on", "off" for --transfers but received "of" of type string (did you mean "off"?)',
    );
    bad(
      { device: 'gpu0' },
      ArgumentRangeError,
      'Expected "all" or device indices such as 0 or 0,1 for --device but received "gpu0" of type string',
    );
    bad(
      { device: '-1' },
      ArgumentRangeError,
      'Expected "all" or device indices such as 0 or 0,1 for --device but received "-1" of type string',
    );
  });

  it('BAD CALL - unknown models: missing, of an unknown kind, several, or none at all', () => {
    bad(
      {},
      ArgumentRangeError,
      'Expected the path of an existing model file for model but received "no/such/model.onnx" of type string',
      ['no/such/model.onnx'],
    );
    bad(
      {},
      ArgumentRangeError,
      'Expected an .onnx model or a serialized engine (.engine, .plan, .trt) for model but received "model.pt" of type string',
      ['model.pt'],
    );
    bad(
      {},
      ArgumentRangeError,
      'Expected one model for model but received 2 ("a.onnx", "b.onnx"); run one model per invocation',
      ['a.onnx', 'b.onnx'],
    );
    bad(
      {},
      ArgumentTypeError,
      'Expected a model (an .onnx model or a serialized engine), or --trtexec <file>, for model but received undefined',
      [],
    );
  });
});

describe('bench devices and backends against the machine', () => {
  it('--device all runs every visible GPU in turn; the cpu backend runs once without a device', () => {
    const points = sweepPoints(
      parse({ backend: 'tensorrt,cpu', device: 'all', batch: '1,8' }),
      capabilitiesWithTwoGpus(),
      () => {},
    );
    expect(points.map((point) => `${point.backend}/${point.device}/${point.batch}`)).toEqual([
      'tensorrt/0/1',
      'tensorrt/0/8',
      'tensorrt/1/1',
      'tensorrt/1/8',
      'cpu/null/1',
      'cpu/null/8',
    ]);
  });

  it('--backend auto is tensorrt where TensorRT is usable, else cpu with the reason said', () => {
    const said: string[] = [];
    expect(sweepPoints(parse({}), capabilitiesWithTwoGpus(), (text) => said.push(text)).map((point) => point.backend)).toEqual([
      'tensorrt',
    ]);
    expect(
      sweepPoints(parse({}), capabilitiesWithoutGpu(), (text) => said.push(text)).map(
        (point) => `${point.backend}/${point.device}`,
      ),
    ).toEqual(['cpu/null']);
    expect(said).toEqual([
      '--backend auto: using cpu, because TensorRT is not usable here: No NVIDIA driver is installed (libcuda.so.1 is missing)\n',
    ]);
  });

  it('BAD CALL - a device index that does not exist', () => {
    expectErrorSync(
      () => resolveDevices([0, 2], 2),
      ArgumentRangeError,
      ErrorCode.INVALID_ARGUMENT,
      'Expected a CUDA device index below 2 for --device but received 2 of type number (this machine has 2 CUDA devices)',
    );
    expectErrorSync(
      () => sweepPoints(parse({ backend: 'tensorrt', device: '3' }), capabilitiesWithTwoGpus(), () => {}),
      ArgumentRangeError,
      ErrorCode.INVALID_ARGUMENT,
      'Expected a CUDA device index below 2 for --device but received 3 of type number (this machine has 2 CUDA devices)',
    );
  });

  it('BAD CALL - asking tensorrt for a device on a machine without one', () => {
    expectErrorSync(
      () => sweepPoints(parse({ backend: 'tensorrt' }), capabilitiesWithoutGpu(), () => {}),
      CudaError,
      ErrorCode.NO_CUDA_DEVICE,
      '--device 0 needs a CUDA device, but this machine has none (No NVIDIA driver is installed (libcuda.so.1 is missing)); use --backend cpu, or run on a GPU host',
    );
  });
});
