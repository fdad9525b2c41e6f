/**
 * examples/http-service as users run it: a child process (`tsx server.ts`, importing the package by
 * its name, which Node resolves to this package's dist/), real HTTP requests on the loopback
 * interface, bad requests answered with 400 while the server keeps serving, and a graceful SIGTERM
 * that finishes the request in flight.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';
import { serializeModel } from '../../lib/onnx/model.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import { chainModel, mlpModel, randomTensor, temporaryFolder } from '../helpers/onnx-fixtures.js';

interface Server {
  child: ChildProcess;
  url: string;
  lines: string[];
}

async function startServer(model: string, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot, 'examples/http-service/server.ts')], {
    cwd: packageRoot,
    env: { ...process.env, MODEL_PATH: model, PORT: '0', HOST: '127.0.0.1', BACKEND: 'cpu', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const reader = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    reader.on('line', (line) => {
      lines.push(line);
      const match = / at (http:\/\/\S+)$/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening: ${lines.join('\n')}`)));
  });
  return { child, url, lines };
}

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('examples/http-service (KServe v2 over a batched session)', () => {
  let folder: string;
  let server: Server;
  let reference: InferenceSession;

  beforeAll(async () => {
    folder = temporaryFolder('trtnode-http-');
    writeFileSync(join(folder, 'mlp.onnx'), serializeModel(mlpModel()));
    writeFileSync(join(folder, 'chain.onnx'), serializeModel(chainModel()));
    server = await startServer(join(folder, 'mlp.onnx'), { BODY_LIMIT: '65536' });
    reference = await InferenceSession.create(mlpModel(), { backend: 'cpu' });
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await reference?.dispose();
  });

  it('serves health, metadata and inference, with results equal to an in-process session', async () => {
    expect(await (await fetch(`${server.url}/v2/health/live`)).json()).toEqual({ live: true });
    expect(await (await fetch(`${server.url}/v2/health/ready`)).json()).toEqual({ ready: true });
    expect(await (await fetch(`${server.url}/v2/models/mlp`)).json()).toEqual({
      name: 'mlp',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 16] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 8] }],
    });
    const inputs = Array.from({ length: 24 }, (_, index) => randomTensor([1 + (index % 2), 16], index));
    const responses = await Promise.all(
      inputs.map((x, index) => post(`${server.url}/v2/models/mlp/infer`, { id: `r${index}`, inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', data: Array.from(x.data) }] })),
    );
    for (const [index, response] of responses.entries()) {
      expect(response.status).toBe(200);
      const body = (await response.json()) as { id: string; outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] };
      const expected = (await reference.run({ x: inputs[index]! })).y!;
      expect(body.id).toBe(`r${index}`);
      expect(body.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: expected.shape, data: Array.from(expected.data as Float32Array) }]);
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('tensorrt_node_request_success_total{model="mlp",backend="cpu"} 24\n');
    expect(metrics).toMatch(/tensorrt_node_execution_count_total\{model="mlp",backend="cpu"\} \d+\n/);
  });

  it('BAD CALL - malformed JSON, wrong datatypes, shapes and names get HTTP 400 with a clear message; the server keeps serving', async () => {
    const infer = `${server.url}/v2/models/mlp/infer`;
    const cases: [unknown, number, string][] = [
      ['{"inputs": [', 400, "Body is not valid JSON but content-type is set to 'application/json'"],
      [{ nope: 1 }, 400, 'The request body must be a JSON object with an "inputs" array'],
      [{ inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP64', data: new Array(16).fill(0) }] }, 400, 'inputs[0] ("x") must have datatype FP32, not "FP64"'],
      [{ inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: new Array(15).fill(0) }] }, 400, 'inputs[0] ("x") has 15 values for shape [1, 16] (16 expected)'],
      [{ inputs: [{ name: 'x', shape: [1, 15], datatype: 'FP32', data: new Array(15).fill(0) }] }, 400, 'Expected 16 at dim 1 (model shape [-1, 16]) for input "x" but received [1, 15]'],
      [{ inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: ['a', ...new Array(15).fill(0)] }] }, 400, 'Expected numbers in the data of input "x" (float32) but received "a" of type string at index 0'],
      [{ inputs: [{ name: 'images', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0) }] }, 400, 'inputs[0].name "images" is not an input of the model (inputs: "x")'],
      [{ inputs: [] }, 400, 'Expected a tensor for every input of the model ("x") in feeds but received none for "x"'],
      [{ inputs: [{ name: 'x', shape: [40, 16], datatype: 'FP32', data: new Array(640).fill(0) }] }, 400, 'Expected between 1 and 32 rows (maxBatchSize) at dim 0 for input "x" but received [40, 16]'],
    ];
    for (const [body, status, message] of cases) {
      const response = await post(infer, body);
      expect({ status: response.status, body: await response.json() }).toEqual({ status, body: { error: message } });
    }
    const unknownModel = await post(`${server.url}/v2/models/other/infer`, { inputs: [] });
    expect({ status: unknownModel.status, body: await unknownModel.json() }).toEqual({ status: 404, body: { error: 'Unknown model "other"; this server serves "mlp"' } });
    const tooLarge = await post(infer, { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: new Array(20_000).fill(0.123456) }] });
    expect(tooLarge.status).toBe(413);
    const good = await post(infer, { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0) }] });
    expect(good.status).toBe(200);
  });

  it('shuts down gracefully on SIGTERM: the request in flight completes, then exit 0', async () => {
    const slow = await startServer(join(folder, 'chain.onnx'), { MAX_BATCH_SIZE: '1024' });
    const x = randomTensor([1024, 256], 1);
    const inFlight = post(`${slow.url}/v2/models/chain/infer`, { inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', data: Array.from(x.data) }] });
    // SIGTERM once the request is executing.
    const deadline = Date.now() + 30_000;
    while (!(await (await fetch(`${slow.url}/metrics`)).text()).includes('tensorrt_node_executions_in_flight{model="chain",backend="cpu"} 1')) {
      if (Date.now() > deadline) throw new Error('the request never started executing');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    slow.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { outputs: { shape: number[] }[] }).outputs[0]!.shape).toEqual([1024, 256]);
    const [code] = await once(slow.child, 'exit');
    expect(code).toBe(0);
    expect(slow.lines).toContain('SIGTERM: draining');
    expect(slow.lines).toContain('drained, bye');
  });
});
