/**
 * examples/http-service as users run it: `server.mts` in a child process (through tsx here, as Node
 * 20 cannot strip types; Node 22.18+ runs it as is), importing `tensorrt-node/serve` by the package's
 * name (which resolves to this package's dist/). Real HTTP requests on the loopback interface,
 * results equal to an in-process session's, bad requests answered with 400 while the server keeps
 * serving, and a SIGTERM that finishes the request in flight and exits 0.
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
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot, 'examples/http-service/server.mts')], {
    cwd: packageRoot,
    env: { ...process.env, MODEL_PATH: model, PORT: '0', BACKEND: 'cpu', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const reader = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    reader.on('line', (line) => {
      lines.push(line);
      const match = /^serving at (http:\/\/\S+)$/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening: ${lines.join('\n')}`)));
  });
  return { child, url, lines };
}

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const events = (lines: string[]) =>
  lines.filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { event: string }).event);

describe('examples/http-service (InferenceServer on one model file)', () => {
  let folder: string;
  let server: Server;
  let reference: InferenceSession;

  beforeAll(async () => {
    folder = temporaryFolder('trtnode-http-');
    writeFileSync(join(folder, 'mlp.onnx'), serializeModel(mlpModel()));
    // A chain of 400 layers: long enough per request to be caught executing.
    writeFileSync(join(folder, 'chain.onnx'), serializeModel(chainModel({ layers: 400 })));
    server = await startServer(join(folder, 'mlp.onnx'), { MODEL_NAME: 'mlp' });
    reference = await InferenceSession.create(mlpModel(), { backend: 'cpu' });
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await reference?.dispose();
  });

  it('listens on the loopback interface and serves health, metadata and inference equal to an in-process session', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
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
      inputs.map((x, index) =>
        post(`${server.url}/v2/models/mlp/infer`, {
          id: `r${index}`,
          inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', data: Array.from(x.data) }],
        }),
      ),
    );
    for (const [index, response] of responses.entries()) {
      expect(response.status).toBe(200);
      const body = (await response.json()) as { id: string; outputs: unknown[] };
      const expected = (await reference.run({ x: inputs[index]! })).y!;
      expect(body.id).toBe(`r${index}`);
      expect(body.outputs).toEqual([
        { name: 'y', datatype: 'FP32', shape: expected.shape, data: Array.from(expected.data as Float32Array) },
      ]);
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('tensorrt_node_request_success_total{model="mlp",version="1",backend="cpu"} 24\n');
    expect(metrics).toContain('nv_inference_request_success{model="mlp",version="1"} 24\n');
  });

  it('BAD CALL - malformed JSON, wrong datatypes, shapes and names get HTTP 400 with a clear message; the server keeps serving', async () => {
    const infer = `${server.url}/v2/models/mlp/infer`;
    const cases: [unknown, number, string][] = [
      ['{"inputs": [', 400, 'Expected valid JSON for the request body but received invalid JSON (Unexpected end of JSON input)'],
      [
        { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP64', data: new Array(16).fill(0) }] },
        400,
        'Expected datatype FP32 (model input "x") for inputs[0].datatype but received "FP64"',
      ],
      [
        { inputs: [{ name: 'x', shape: [1, 15], datatype: 'FP32', data: new Array(15).fill(0) }] },
        400,
        'Expected 16 at dim 1 (model shape [-1, 16]) for input "x" but received [1, 15]',
      ],
      [
        { inputs: [{ name: 'images', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0) }] },
        400,
        'Expected one of the model\'s inputs ("x") for inputs[0].name but received "images"',
      ],
      [
        { inputs: [{ name: 'x', shape: [40, 16], datatype: 'FP32', data: new Array(640).fill(0) }] },
        400,
        'Expected between 1 and 32 rows (maxBatchSize) at dim 0 for input "x" but received [40, 16]',
      ],
    ];
    for (const [body, status, message] of cases) {
      const response = await post(infer, body);
      expect({ status: response.status, body: await response.json() }).toEqual({ status, body: { error: message } });
    }
    const unknownModel = await post(`${server.url}/v2/models/other/infer`, { inputs: [] });
    expect({ status: unknownModel.status, body: await unknownModel.json() }).toEqual({
      status: 404,
      body: { error: 'Unknown model "other"; this server serves "mlp"' },
    });
    expect(
      (await post(infer, { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0) }] })).status,
    ).toBe(200);
  });

  it('shuts down gracefully on SIGTERM: the request in flight completes, then exit 0', async () => {
    const slow = await startServer(join(folder, 'chain.onnx'), { MODEL_NAME: 'chain' });
    const exited = once(slow.child, 'close');
    const x = randomTensor([32, 256], 1);
    const inFlight = post(`${slow.url}/v2/models/chain/infer`, {
      inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', data: Array.from(x.data) }],
      outputs: [{ name: 'y', parameters: { binary_data: true } }],
    });
    // SIGTERM once the request is executing.
    const deadline = Date.now() + 60_000;
    while (
      !(await (await fetch(`${slow.url}/metrics`)).text()).includes(
        'tensorrt_node_executions_in_flight{model="chain",version="1",backend="cpu"} 1',
      )
    ) {
      if (Date.now() > deadline) throw new Error('the request never started executing');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    slow.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.headers.get('connection')).toBe('close');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(events(slow.lines)).toEqual(expect.arrayContaining(['server.signal', 'server.draining', 'server.stopped']));
  });
});
