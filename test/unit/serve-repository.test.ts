/**
 * The model repository and its per-model config: layout, version policies, JSON and YAML configs
 * checked by the JSON Schema with did-you-mean for misspelt keys, and the server's own options.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError, TensorRTNodeError } from '../../lib/core/errors.js';
import { checkModelConfig, loadModelConfig } from '../../lib/serve/model-config.js';
import { sessionOptionsFor } from '../../lib/serve/models.js';
import { validateServeOptions } from '../../lib/serve/options.js';
import { checkModelName, listRepository, readRepositoryModel } from '../../lib/serve/repository.js';
import { serveOptionsFrom } from '../../lib/cli/commands/serve.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';
import { temporaryFolder } from '../helpers/onnx-fixtures.js';

function repository(layout: Record<string, string>): string {
  const root = temporaryFolder('trtnode-repo-');
  for (const [path, text] of Object.entries(layout)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('model repository', () => {
  it('lists model folders and serves the latest version by default, or the versions the config names', async () => {
    const root = repository({
      'a/1/model.onnx': 'x',
      'a/3/model.onnx': 'x',
      'a/10/model.plan': 'x',
      'b/2/model.onnx': 'x',
      'b/config.json': '{"versions":"all"}',
      'c/config.yaml': 'versions: [1]\n',
      'c/1/model.onnx': 'x',
      'c/2/model.onnx': 'x',
      '.hidden/1/model.onnx': 'x',
      'notes.txt': '',
    });
    expect(listRepository(root)).toEqual(['a', 'b', 'c']);
    const a = await readRepositoryModel(root, 'a');
    expect(a.versions).toEqual([{ version: 10, path: join(root, 'a/10/model.plan'), format: 'engine' }]);
    expect((await readRepositoryModel(root, 'b')).versions.map((v) => v.version)).toEqual([2]);
    const c = await readRepositoryModel(root, 'c');
    expect(c.versions.map((v) => v.version)).toEqual([1]);
    expect(c.config).toEqual({ versions: [1] });
  });

  it('BAD CALL - folders without a model, with two models, missing versions, unsafe names', async () => {
    const root = repository({
      'empty/config.json': '{}',
      'both/1/model.onnx': 'x',
      'both/1/model.plan': 'x',
      'none/1/readme': 'x',
      'pinned/1/model.onnx': 'x',
      'pinned/config.json': '{"versions":[1,4]}',
    });
    await expectError(
      () => readRepositoryModel(root, 'empty'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected at least one version folder (1/, 2/, ...) with a model in empty/ but received none',
    );
    await expectError(
      () => readRepositoryModel(root, 'both'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one of model.onnx or model.plan in both/1/ but received both',
    );
    await expectError(
      () => readRepositoryModel(root, 'none'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one of model.onnx or model.plan in none/1/ but received neither',
    );
    await expectError(
      () => readRepositoryModel(root, 'pinned'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected version folders 4 (config "versions") in pinned/ but received only 1',
    );
    await expectError(
      () => readRepositoryModel(root, 'missing'),
      TensorRTNodeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a model folder for "missing" in the repository but received none',
    );
    for (const name of ['../etc', 'a/b', '..', '', '.x']) {
      expectErrorSync(
        () => checkModelName(name),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        `Expected a model name of letters, digits, "_", "-" and "." (starting with a letter or digit, at most 128) but received ${JSON.stringify(name)} of type string`,
      );
    }
  });
});

describe('model config', () => {
  it('accepts every documented key, from JSON and from YAML alike', async () => {
    const config = {
      backend: 'cpu',
      precision: 'int8',
      calibration: { random: 8, seed: 3 },
      profiles: [{ x: { min: [1, 16], opt: [8, 16], max: [32, 16] } }],
      contexts: 2,
      cudaGraph: 'auto',
      device: 0,
      batcher: { maxBatchSize: 16, maxDelayMs: 2, preferredBatchSizes: [8, 16] },
      maxQueue: 100,
      timeoutMs: 250,
      versions: 'all',
      cpu: { intraOpNumThreads: 1, spinWait: false },
      tensorrt: { workspace: '2GiB', optimizationLevel: 3 },
    };
    const root = repository({
      'j/config.json': JSON.stringify(config),
      'y/config.yaml': `backend: cpu\nbatcher:\n  maxBatchSize: 16\n  maxDelayMs: 2\n`,
      'e/config.yml': '',
    });
    expect(await loadModelConfig(join(root, 'j'), 'j')).toEqual(config);
    expect(await loadModelConfig(join(root, 'y'), 'y')).toEqual({ backend: 'cpu', batcher: { maxBatchSize: 16, maxDelayMs: 2 } });
    expect(await loadModelConfig(join(root, 'e'), 'e')).toEqual({});
    expect(checkModelConfig({ batcher: false }, 'f')).toEqual({ batcher: false });
  });

  it('BAD CALL - a misspelt key is refused with the closest known key, wherever it is', async () => {
    expectErrorSync(
      () => checkModelConfig({ maxQueu: 4 }, 'mlp/config.json'),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      /^Unknown key "maxQueu" of mlp\/config.json \(did you mean "maxQueue"\?\); known keys: backend, precision, /,
    );
    const root = repository({ 'mlp/config.yaml': 'batcher:\n  maxBatchsize: 8\n' });
    await expectError(
      () => loadModelConfig(join(root, 'mlp'), 'mlp'),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      'Unknown key "maxBatchsize" in batcher of mlp/config.yaml (did you mean "maxBatchSize"?); known keys: maxBatchSize, maxDelayMs, preferredBatchSizes',
    );
    expectErrorSync(
      () => checkModelConfig({ cpu: { threads: 2 } }, 'f'),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      /^Unknown key "threads" in cpu of f; known keys: intraOpNumThreads,/,
    );
  });

  it('BAD CALL - wrong values, syntax errors and two config files', async () => {
    expectErrorSync(
      () => checkModelConfig({ backend: 'gpu' }, 'm/config.json'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a valid model config in m/config.json but in backend the value must be equal to one of the allowed values (one of "auto", "tensorrt", "cpu"), received "gpu"',
    );
    expectErrorSync(
      () => checkModelConfig({ contexts: 0 }, 'm/config.json'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a valid model config in m/config.json but in contexts the value must be >= 1, received 0',
    );
    const root = repository({
      'bad/config.json': '{"backend": ',
      'yaml/config.yaml': 'backend: [cpu\n',
      'two/config.json': '{}',
      'two/config.yaml': '',
    });
    await expectError(
      () => loadModelConfig(join(root, 'bad'), 'bad'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      /^Expected valid JSON in bad\/config.json but received a syntax error: /,
    );
    await expectError(
      () => loadModelConfig(join(root, 'yaml'), 'yaml'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      /^Expected valid YAML in yaml\/config.yaml but received a syntax error: /,
    );
    await expectError(
      () => loadModelConfig(join(root, 'two'), 'two'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one config file in two/ but received config.json and config.yaml',
    );
  });

  it('the config goes over the server defaults into the session options; a calibration folder is relative to the model', () => {
    const source = {
      name: 'm',
      folder: '/repo/m',
      config: { contexts: 3, calibration: 'calib' },
      versions: [{ version: 2, path: '/repo/m/2/model.onnx', format: 'onnx' as const }],
    };
    expect(
      sessionOptionsFor('m', source, source.versions[0]!, { backend: 'cpu', contexts: 1, timeoutMs: 30_000, cacheDir: '/cache' }),
    ).toEqual({
      name: 'm',
      backend: 'cpu',
      modelFormat: 'onnx',
      timeoutMs: 30_000,
      contexts: 3,
      cacheDir: '/cache',
      calibration: '/repo/m/calib',
    });
  });
});

describe('server options', () => {
  it('production defaults: loopback, a request deadline, bounded bodies and connections', () => {
    const checked = validateServeOptions({ repository: '/r' });
    expect(checked).toMatchObject({
      host: '127.0.0.1',
      port: 8000,
      grpcPort: null,
      metricsPort: null,
      apiKey: null,
      modelControl: false,
      defaults: { timeoutMs: 30_000 },
      drainTimeoutMs: 30_000,
    });
    expect(checked.limits).toMatchObject({
      maxBodyBytes: 64 * 1024 * 1024,
      headersTimeoutMs: 10_000,
      bodyTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5000,
      maxConnections: 1024,
      maxDepth: 64,
    });
  });

  it('BAD CALL - unknown options, nothing to serve, bad ports', () => {
    expectErrorSync(
      () => validateServeOptions({ repository: '/r', prot: 1 }),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      /^Unknown option "prot" in options \(did you mean "port"\?\)/,
    );
    expectErrorSync(
      () => validateServeOptions({}),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected options.repository or options.models (the models to serve) but received neither',
    );
    expectErrorSync(
      () => validateServeOptions({ repository: '/r', port: 70000 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 65535 for options.port but received 70000 of type number',
    );
    expectErrorSync(
      () => validateServeOptions({ repository: '/r', limits: { maxBodyByte: 1 } }),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      /^Unknown option "maxBodyByte" in options.limits \(did you mean "maxBodyBytes"\?\)/,
    );
    expectErrorSync(
      () => validateServeOptions({ repository: '/r', apiKey: '' }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty string for options.apiKey but received "" of type string',
    );
  });

  it('the serve command line maps onto the options (durations, sizes, off)', () => {
    expect(
      serveOptionsFrom(
        {
          port: '9000',
          'grpc-port': 'off',
          'max-body': '8MiB',
          'header-timeout': '2s',
          timeout: '1500ms',
          backend: 'cpu',
          model: ['a', 'b'],
          'drain-delay': '5s',
        },
        ['/repo'],
      ),
    ).toMatchObject({
      repository: '/repo',
      host: '127.0.0.1',
      port: 9000,
      grpcPort: null,
      metricsPort: 8002,
      only: ['a', 'b'],
      limits: { maxBodyBytes: 8 * 1024 * 1024, headersTimeoutMs: 2000 },
      defaults: { backend: 'cpu', timeoutMs: 1500 },
      drainDelayMs: 5000,
    });
    expectErrorSync(
      () => serveOptionsFrom({}, []),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one model repository folder for repository but received none',
    );
    expectErrorSync(
      () => serveOptionsFrom({ port: 'eighty' }, ['/r']),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a port between 0 and 65535, or off for --port but received "eighty" of type string',
    );
    expectErrorSync(
      () => serveOptionsFrom({ 'api-key': 'a', 'api-key-file': 'f' }, ['/r']),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected --api-key or --api-key-file but received both',
    );
  });
});
