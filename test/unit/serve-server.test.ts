/**
 * InferenceServer on the cpu backend, in process: a repository of two models (one batched, one
 * static) and a slow one, served over REST (JSON and the binary tensor data extension) and gRPC
 * through one handler; results equal to an in-process session's; every kind of bad request gets
 * its status and a message naming what was wrong, and the server keeps serving; the API key;
 * Triton's metric names; model control (load, unload, reload under traffic).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceError } from '@grpc/grpc-js';
import { decodeRestInferResponse } from '../../lib/protocol/response.js';
import { InferenceServer } from '../../lib/serve/server.js';
import { silentLogger } from '../../lib/serve/logger.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import { convNetModel, mlpModel, randomTensor } from '../helpers/onnx-fixtures.js';
import { fixtureRepository, grpcClient, rawBytes, type GrpcTestClient } from '../helpers/serve.js';

const KEY = 'test-key-0123';
const auth = { authorization: `Bearer ${KEY}` };

describe('InferenceServer (cpu backend, REST + gRPC)', () => {
  let server: InferenceServer;
  let grpc: GrpcTestClient;
  let mlp: InferenceSession;
  let conv: InferenceSession;
  let base: string;

  const get = (path: string, headers: Record<string, string> = auth) => fetch(`${base}${path}`, { headers });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    });
  const expectStatus = async (response: Response, status: number, error?: string | RegExp) => {
    const body = (await response.json()) as { error?: string };
    expect({ status: response.status, body }).toMatchObject({ status });
    if (typeof error === 'string') expect(body.error).toBe(error);
    else if (error) expect(body.error).toMatch(error);
  };

  beforeAll(async () => {
    server = await InferenceServer.start({
      repository: fixtureRepository(),
      port: 0,
      grpcPort: 0,
      metricsPort: 0,
      apiKey: KEY,
      modelControl: true,
      defaults: { backend: 'cpu' },
      limits: { maxBodyBytes: 256 * 1024 },
      logger: silentLogger,
    });
    base = server.urls.http!;
    grpc = await grpcClient(server.urls.grpc!);
    mlp = await InferenceSession.create(mlpModel(), { backend: 'cpu' });
    conv = await InferenceSession.create(convNetModel(), { backend: 'cpu' });
  }, 120_000);

  afterAll(async () => {
    grpc?.close();
    await server?.close();
    await mlp?.dispose();
    await conv?.dispose();
  });

  it('health, server and model metadata, readiness; unknown models and versions are 404', async () => {
    expect(await (await get('/v2/health/live', {})).json()).toEqual({ live: true });
    expect(await (await get('/v2/health/ready', {})).json()).toEqual({ ready: true });
    expect(await (await get('/v2')).json()).toEqual({
      name: 'tensorrt-node',
      version: expect.any(String),
      extensions: ['binary_tensor_data', 'model_repository'],
    });
    expect(await (await get('/v2/models/mlp')).json()).toEqual({
      name: 'mlp',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 16] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 8] }],
    });
    expect(await (await get('/v2/models/conv/versions/2')).json()).toMatchObject({
      name: 'conv',
      versions: ['2'],
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 16, 16] }],
    });
    expect(await (await get('/v2/models/conv/versions/2/ready')).json()).toEqual({ name: 'conv', version: '2', ready: true });
    await expectStatus(await get('/v2/models/conv/versions/1'), 404, 'Unknown version "1" of model "conv"; it serves version 2');
    await expectStatus(await get('/v2/models/nope/ready'), 404, 'Unknown model "nope"; this server serves "conv", "mlp", "slow"');
    await expectStatus(await get('/v2/models/mlp/infer'), 405, 'Expected POST for /v2/models/mlp/infer but received GET');
    await expectStatus(await get('/v3/anything'), 404, 'No route GET /v3/anything');
    expect(await (await post('/v2/repository/index', '')).json()).toEqual([
      { name: 'conv', version: '2', state: 'READY' },
      { name: 'mlp', version: '1', state: 'READY' },
      { name: 'slow', version: '1', state: 'READY' },
    ]);
  });

  it("REST JSON, REST binary and gRPC return the session's exact results, for the batched and the static model", async () => {
    const inputs = Array.from({ length: 12 }, (_, index) => randomTensor([1 + (index % 3), 16], 40 + index));
    const expected = await Promise.all(inputs.map(async (x) => (await mlp.run({ x })).y!.data as Float32Array));
    const json = inputs.map((x, index) =>
      post('/v2/models/mlp/infer', {
        id: `j${index}`,
        inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', data: Array.from(x.data) }],
      }),
    );
    const binary = inputs.map((x) => {
      const header = Buffer.from(
        JSON.stringify({
          inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', parameters: { binary_data_size: x.data.byteLength } }],
          parameters: { binary_data_output: true },
        }),
      );
      return post('/v2/models/mlp/versions/1/infer', Buffer.concat([header, rawBytes(x.data)]), {
        'inference-header-content-length': String(header.byteLength),
        'content-type': 'application/octet-stream',
      });
    });
    const viaGrpc = inputs.map((x) =>
      grpc.call<{ outputs: { name: string; shape: string[] }[]; raw_output_contents: Buffer[] }>(
        'ModelInfer',
        { model_name: 'mlp', inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape }], raw_input_contents: [rawBytes(x.data)] },
        auth,
      ),
    );
    const [jsonResponses, binaryResponses, grpcResponses] = await Promise.all([
      Promise.all(json),
      Promise.all(binary),
      Promise.all(viaGrpc),
    ]);
    for (const [index, x] of inputs.entries()) {
      const fromJson = (await jsonResponses[index]!.json()) as {
        id: string;
        outputs: { name: string; shape: number[]; data: number[] }[];
      };
      expect(fromJson.id).toBe(`j${index}`);
      expect(fromJson.outputs).toEqual([
        { name: 'y', datatype: 'FP32', shape: [x.shape[0], 8], data: Array.from(expected[index]!) },
      ]);
      const response = binaryResponses[index]!;
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      const decoded = decodeRestInferResponse(
        new Uint8Array(await response.arrayBuffer()),
        Number(response.headers.get('inference-header-content-length')),
      );
      expect(decoded.outputs[0]!.data).toEqual(expected[index]);
      const fromGrpc = grpcResponses[index]!;
      expect(fromGrpc.outputs).toEqual([
        { name: 'y', datatype: 'FP32', shape: [String(x.shape[0]), '8'], parameters: {}, contents: null },
      ]);
      expect(new Float32Array(new Uint8Array(fromGrpc.raw_output_contents[0]!).buffer)).toEqual(expected[index]);
    }
    // The static model, one output asked for, in JSON.
    const image = randomTensor([1, 3, 16, 16], 9);
    const reference = await conv.run({ x: image });
    const response = await post('/v2/models/conv/infer', {
      inputs: [{ name: 'x', shape: [1, 3, 16, 16], datatype: 'FP32', data: Array.from(image.data) }],
      outputs: [{ name: 'y2' }],
    });
    expect(((await response.json()) as { outputs: unknown[] }).outputs).toEqual([
      { name: 'y2', datatype: 'FP32', shape: [1, 4, 16, 16], data: Array.from(reference.y2!.data as Float32Array) },
    ]);
    // Batching happened on mlp: fewer executions than requests.
    const metrics = await (await get('/metrics')).text();
    const count = (name: string) => Number(new RegExp(`^${name}\\{model="mlp",version="1"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    expect(count('nv_inference_request_success')).toBeGreaterThanOrEqual(36);
    expect(count('nv_inference_exec_count')).toBeLessThanOrEqual(count('nv_inference_request_success'));
  });

  it('BAD CALL - malformed bodies, wrong datatypes, shapes, names and sizes get 400/413 with a message; the server keeps serving', async () => {
    const x = (shape: number[], data: unknown[], datatype = 'FP32', name = 'x') => ({
      inputs: [{ name, shape, datatype, data }],
    });
    const cases: [unknown, number, string | RegExp][] = [
      ['{"inputs": [', 400, 'Expected valid JSON for the request body but received invalid JSON (Unexpected end of JSON input)'],
      [{ nope: 1 }, 400, 'Expected an array for inputs but received undefined'],
      [
        x([1, 16], new Array(16).fill(0), 'FP64'),
        400,
        'Expected datatype FP32 (model input "x") for inputs[0].datatype but received "FP64"',
      ],
      [
        x([1, 16], new Array(15).fill(0)),
        400,
        'Expected 16 values (the element count of its shape) for inputs[0].data ("x") but received 15',
      ],
      [x([1, 15], new Array(15).fill(0)), 400, 'Expected 16 at dim 1 (model shape [-1, 16]) for input "x" but received [1, 15]'],
      [
        x([1, 16], ['a', ...new Array(15).fill(0)]),
        400,
        'Expected a number at index 0 of inputs[0].data ("x") (FP32) but received "a" of type string',
      ],
      [
        x([1, 16], new Array(16).fill(0), 'FP32', 'images'),
        400,
        'Expected one of the model\'s inputs ("x") for inputs[0].name but received "images"',
      ],
      [{ inputs: [] }, 400, 'Expected a tensor for every input of the model ("x") in feeds but received none for "x"'],
      [
        x([9, 16], new Array(144).fill(0)),
        400,
        'Expected between 1 and 8 rows (maxBatchSize) at dim 0 for input "x" but received [9, 16]',
      ],
      [
        x([1, 16], new Array(16).fill(0), 'BYTES'),
        400,
        /^Expected one of BOOL, .* for inputs\[0\]\.datatype but received "BYTES" of type string$/,
      ],
      [{ ...x([1, 16], new Array(16).fill(0)), outputs: [{ name: 'z' }] }, 400, /"z"/],
      [
        x([1, 16], new Array(40_000).fill(0.123456)),
        413,
        'Expected a request body of at most 262144 bytes but received Content-Length 360067',
      ],
    ];
    for (const [body, status, message] of cases) await expectStatus(await post('/v2/models/mlp/infer', body), status, message);
    await expectStatus(
      await post('/v2/models/mlp/infer', '{}', { 'inference-header-content-length': 'ten' }),
      400,
      'Expected a non-negative integer for the Inference-Header-Content-Length header but received "ten"',
    );
    await expectStatus(
      await post('/v2/models/other/infer', x([1], [0])),
      404,
      'Unknown model "other"; this server serves "conv", "mlp", "slow"',
    );
    const good = await post('/v2/models/mlp/infer', x([1, 16], new Array(16).fill(0)));
    expect(good.status).toBe(200);
  });

  it('BAD CALL - gRPC errors carry their status codes', async () => {
    const fail = async (method: string, request: unknown, headers: Record<string, string> = auth) => {
      const error = (await grpc.call(method, request, headers).then(
        () => null,
        (caught: ServiceError) => caught,
      ))!;
      return { code: error.code, details: error.details };
    };
    expect(await fail('ModelInfer', { model_name: 'nope' })).toEqual({
      code: 5,
      details: 'Unknown model "nope"; this server serves "conv", "mlp", "slow"',
    });
    expect(
      await fail('ModelInfer', {
        model_name: 'mlp',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 15] }],
        raw_input_contents: [Buffer.alloc(60)],
      }),
    ).toEqual({ code: 3, details: 'Expected 16 at dim 1 (model shape [-1, 16]) for input "x" but received [1, 15]' });
    expect(await fail('ModelMetadata', { name: 'mlp' }, {})).toEqual({
      code: 16,
      details: 'Expected an API key (authorization: Bearer <key> metadata) but received none or a wrong one',
    });
    expect(await grpc.call('ServerLive', {})).toEqual({ live: true });
    expect(await grpc.call('ModelMetadata', { name: 'mlp' }, auth)).toMatchObject({
      name: 'mlp',
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1', '16'] }],
    });
  });

  it('BAD CALL - the API key guards everything but health, compared whatever its length; the metrics port needs none', async () => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${KEY}x` },
      { authorization: KEY },
      { authorization: `Basic ${KEY}` },
    ]) {
      const response = await get('/v2/models/mlp', headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.json()).toEqual({
        error: 'Expected an API key (Authorization: Bearer <key>) but received none or a wrong one',
      });
    }
    expect((await get('/metrics', {})).status).toBe(401);
    expect((await get('/v2/health/ready', {})).status).toBe(200);
    const scraped = await fetch(server.urls.metrics!);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await scraped.text();
    for (const family of [
      'tensorrt_node_request_success_total',
      'tensorrt_node_queue_duration_seconds_bucket',
      'nv_inference_request_success',
      'nv_inference_request_failure',
      'nv_inference_count',
      'nv_inference_exec_count',
      'nv_inference_request_duration_us',
      'nv_inference_queue_duration_us',
      'nv_inference_compute_infer_duration_us',
      'nv_inference_pending_request_count',
      'tensorrt_node_server_connections',
    ]) {
      expect(text).toContain(`\n${family}{`);
    }
    expect(text).toMatch(/^nv_inference_request_failure\{model="mlp",version="1",reason="OTHER"\} [1-9]\d*$/m);
    expect((await fetch(server.urls.metrics!.replace('/metrics', '/v2/models/mlp'))).status).toBe(404);
  });

  it('a flood beyond the queue gets 503 with Retry-After, a deadline gets 504, and the server keeps serving', async () => {
    // 128 KiB of binary tensor data per request (JSON would pass the 256 KiB body limit).
    const x = randomTensor([128, 256], 3);
    const slow = (parameters: Record<string, unknown> = {}) => {
      const header = Buffer.from(
        JSON.stringify({
          inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', parameters: { binary_data_size: x.data.byteLength } }],
          outputs: [{ name: 'y', parameters: { binary_data: true } }],
          parameters,
        }),
      );
      return post('/v2/models/slow/infer', Buffer.concat([header, rawBytes(x.data)]), {
        'inference-header-content-length': String(header.byteLength),
      });
    };
    const flood = await Promise.all(Array.from({ length: 12 }, () => slow()));
    const statuses = flood.map((response) => response.status);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(1);
    const refused = flood.filter((response) => response.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    expect(refused[0]!.headers.get('retry-after')).toBe('1');
    expect(await refused[0]!.json()).toEqual({
      error: 'The run queue is full (options.maxQueue: 2 runs waiting); retry later or raise maxQueue',
    });
    // A deadline of 1 µs cannot be met behind a running request: 504. The late request must arrive
    // while the model is busy: two requests are sent (one runs, one waits; the queue holds 2), and
    // the late one once the server's own gauge shows one waiting. A run takes milliseconds, so on a
    // loaded machine the busy ones may still finish first: then the late one runs at once (200) and
    // the round is tried again.
    const queued = async () => {
      const metrics = await (await fetch(server.urls.metrics!)).text();
      return /^tensorrt_node_queue_length\{model="slow",version="1"[^}]*\} [1-9]/m.test(metrics);
    };
    let late: Response | undefined;
    for (let round = 0; round < 10 && late?.status !== 504; round++) {
      const busy = [slow(), slow()];
      let settled = 0;
      for (const request of busy) void request.then(() => settled++);
      while (settled < busy.length && !(await queued())) await new Promise((resolve) => setTimeout(resolve, 1));
      late = await slow({ timeout: 1 });
      expect([200, 504]).toContain(late.status);
      if (late.status === 200) await late.arrayBuffer();
      expect((await Promise.all(busy)).map((response) => response.status)).toEqual([200, 200]);
    }
    expect(late!.status).toBe(504);
    expect(((await late!.json()) as { error: string }).error).toMatch(/timed out/);
    expect(
      (
        await post('/v2/models/mlp/infer', {
          inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(1) }],
        })
      ).status,
    ).toBe(200);
  });

  it('model control: unload (404 after), load again, and reload while requests run (none fails)', async () => {
    const infer = () =>
      post('/v2/models/mlp/infer', { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0.5) }] });
    expect((await post('/v2/repository/models/mlp/unload', '')).status).toBe(200);
    await expectStatus(await infer(), 404, 'Unknown model "mlp"; this server serves "conv", "slow"');
    expect((await get('/v2/health/ready', {})).status).toBe(200);
    expect((await post('/v2/repository/models/mlp/load', '')).status).toBe(200);
    expect((await infer()).status).toBe(200);
    const during = Array.from({ length: 20 }, () => infer());
    const reload = post('/v2/repository/models/mlp/load', '');
    const more = Array.from({ length: 20 }, () => infer());
    expect((await reload).status).toBe(200);
    expect((await Promise.all([...during, ...more])).map((response) => response.status)).toEqual(new Array(40).fill(200));
    await expectStatus(await post('/v2/repository/models/..%2Fx/load', ''), 400, /^Expected a model name of letters/);
    await expectStatus(
      await post('/v2/repository/models/ghost/load', ''),
      400,
      'Expected a model of the repository but received "ghost"',
    );
  });
});
