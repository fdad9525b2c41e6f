/**
 * `tensorrt-node serve` as users run it (the compiled CLI in a child process, cpu backend): a
 * repository of two models (one batched) whose REST JSON, REST binary and gRPC answers equal an
 * in-process session's; repositories it cannot serve refused with the reason; ten concurrent 8 MiB hostile JSON bodies
 * refused while /v2/health/live answers; `bench --url` against it writing results `report` reads;
 * and SIGTERM under keep-alive load: every request that reached the server is answered (200, or
 * 503 with Connection: close), none is reset, and the process exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadResultsFile } from '../../lib/bench/results.js';
import { decodeRestInferResponse } from '../../lib/protocol/response.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import { cliPath, runCli } from '../helpers/cli.js';
import { convNetModel, mlpModel, randomTensor, temporaryFolder } from '../helpers/onnx-fixtures.js';
import { fixtureRepository, grpcClient, rawBytes } from '../helpers/serve.js';

interface Serving {
  child: ChildProcess;
  urls: { http: string; grpc: string | null; metrics: string | null };
  events: Record<string, unknown>[];
}

async function startServe(args: string[]): Promise<Serving> {
  const child = spawn(process.execPath, [cliPath, 'serve', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: Record<string, unknown>[] = [];
  const urls = await new Promise<Serving['urls']>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push(event);
      if (event.event === 'server.started') resolve(event as unknown as Serving['urls']);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening: ${JSON.stringify(events)}`)));
  });
  return { child, urls, events };
}

interface Reply {
  status: number;
  connection: string | undefined;
  body: string;
}

function send(url: string, method: string, path: string, body: Buffer | string | null, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method,
        path,
        agent: agent ?? false,
        headers: body === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode!,
            connection: response.headers.connection,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body ?? undefined);
  });
}

const mlpBody = (data: string) => `{"inputs":[{"name":"x","shape":[1,16],"datatype":"FP32","data":${data}}]}`;

describe('tensorrt-node serve (compiled CLI, cpu backend)', () => {
  let repository: string;
  let serving: Serving;

  beforeAll(async () => {
    repository = fixtureRepository();
    serving = await startServe([
      repository,
      '--model',
      'mlp',
      '--model',
      'conv',
      '--port',
      '0',
      '--grpc-port',
      '0',
      '--metrics-port',
      '0',
      '--backend',
      'cpu',
      '--max-body',
      '16MiB',
    ]);
  });

  afterAll(() => {
    if (serving?.child.exitCode === null) serving.child.kill('SIGKILL');
  });

  it('serves the repository over REST, with its models in the startup log', async () => {
    const started = serving.events.find((event) => event.event === 'server.started')!;
    expect(started.models).toEqual([
      { name: 'mlp', version: '1', state: 'READY' },
      { name: 'conv', version: '2', state: 'READY' },
    ]);
    expect(serving.urls.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const reply = await send(
      serving.urls.http,
      'POST',
      '/v2/models/mlp/infer',
      mlpBody(JSON.stringify(new Array(16).fill(0.25))),
    );
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body).outputs[0].shape).toEqual([1, 8]);
  });

  it("REST JSON, REST binary and gRPC return the session's exact results (batched mlp, static conv)", async () => {
    const mlp = await InferenceSession.create(mlpModel(), { backend: 'cpu' });
    const conv = await InferenceSession.create(convNetModel(), { backend: 'cpu' });
    const grpc = await grpcClient(serving.urls.grpc!);
    try {
      for (const [model, x] of [
        ['mlp', randomTensor([3, 16], 5)],
        ['conv', randomTensor([1, 3, 16, 16], 6)],
      ] as const) {
        const expected = await (model === 'mlp' ? mlp : conv).run({ x });
        const viaJson = JSON.parse(
          (
            await send(
              serving.urls.http,
              'POST',
              `/v2/models/${model}/infer`,
              JSON.stringify({ inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', data: Array.from(x.data) }] }),
            )
          ).body,
        ) as { outputs: { name: string; data: number[] }[] };
        const header = Buffer.from(
          JSON.stringify({
            inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', parameters: { binary_data_size: x.data.byteLength } }],
            parameters: { binary_data_output: true },
          }),
        );
        const binaryResponse = await fetch(`${serving.urls.http}/v2/models/${model}/infer`, {
          method: 'POST',
          headers: { 'inference-header-content-length': String(header.byteLength) },
          body: Buffer.concat([header, rawBytes(x.data)]),
        });
        const viaBinary = decodeRestInferResponse(
          new Uint8Array(await binaryResponse.arrayBuffer()),
          Number(binaryResponse.headers.get('inference-header-content-length')),
        );
        const viaGrpc = await grpc.call<{ outputs: { name: string }[]; raw_output_contents: Buffer[] }>('ModelInfer', {
          model_name: model,
          inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape }],
          raw_input_contents: [rawBytes(x.data)],
        });
        for (const [index, output] of viaBinary.outputs.entries()) {
          const reference = expected[output.name]!.data as Float32Array;
          expect(output.data).toEqual(reference);
          expect(Float32Array.from(viaJson.outputs[index]!.data)).toEqual(reference);
          expect(new Float32Array(new Uint8Array(viaGrpc.raw_output_contents[index]!).buffer)).toEqual(reference);
        }
      }
    } finally {
      grpc.close();
      await mlp.dispose();
      await conv.dispose();
    }
  });

  it('ten concurrent 8 MiB hostile JSON bodies are all refused with 400 while /v2/health/live answers', async () => {
    const size = 8 * 1024 * 1024;
    const emptyArrays = Buffer.from(mlpBody(`[${'[],'.repeat(size / 3 - 40)}[]]`));
    const numbers = Buffer.from(mlpBody(`[${'[0.125],'.repeat(size / 8 - 40)}[0.125]]`));
    let done = 0;
    const hostile = Array.from({ length: 10 }, (_, index) =>
      send(serving.urls.http, 'POST', '/v2/models/mlp/infer', index % 2 === 0 ? emptyArrays : numbers).finally(() => done++),
    );
    const health: number[] = [];
    while (done < 10) {
      const reply = await send(serving.urls.http, 'GET', '/v2/health/live', null);
      if (done < 10) health.push(reply.status);
    }
    expect((await Promise.all(hostile)).map((reply) => reply.status)).toEqual(new Array(10).fill(400));
    expect(health.length).toBeGreaterThan(0);
    expect(health.every((status) => status === 200)).toBe(true);
  });

  it('bench --url drives it open loop over REST and gRPC; report reads the results', () => {
    const folder = temporaryFolder('trtnode-load-');
    const json = join(folder, 'rest.json');
    const rest = runCli([
      'bench',
      '--url',
      serving.urls.http,
      '--model',
      'mlp',
      '--request-rate',
      '20,40',
      '--duration',
      '1s',
      '--warmup',
      '200ms',
      '--json',
      json,
    ]);
    expect(rest.stderr).toBe('');
    expect(rest.status).toBe(0);
    const results = loadResultsFile(json);
    expect(results.runs.map((run) => [run.id, run.status, run.load?.offeredRate, run.load?.failed])).toEqual([
      ['rest-json-r20', 'ok', 20, 0],
      ['rest-json-r40', 'ok', 40, 0],
    ]);
    expect(results.runs[0]!.load!.server).toMatchObject({ source: `${serving.urls.http}/metrics`, requests: expect.any(Number) });
    const grpcJson = join(folder, 'grpc.json');
    const grpc = runCli([
      'bench',
      '--url',
      serving.urls.grpc!,
      '--protocol',
      'grpc',
      '--model',
      'mlp',
      '--concurrency',
      '2',
      '--duration',
      '1s',
      '--warmup',
      '0ms',
      '--metrics-url',
      serving.urls.metrics!,
      '--json',
      grpcJson,
    ]);
    expect(grpc.status).toBe(0);
    expect(loadResultsFile(grpcJson).runs[0]!.load).toMatchObject({
      protocol: 'grpc',
      mode: 'closed-loop',
      concurrency: 2,
      failed: 0,
    });
    const report = runCli(['report', json, grpcJson, '--html', join(folder, 'report.html')]);
    expect(report.status).toBe(0);
    const bad = runCli(['bench', '--url', serving.urls.http, '--model', 'mlp', '--backend', 'cpu']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(
      'tensorrt-node bench: Expected no --backend with --url (it applies to local runs; the server decides how it runs the model) but received "cpu" [ERR_INVALID_ARGUMENT]\n',
    );
  });

  it('BAD CALL - a repository that cannot be served exits 2 with the reason, before listening', () => {
    const empty = runCli(['serve', temporaryFolder('trtnode-empty-repo-'), '--port', '0']);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(
      /^tensorrt-node serve: Expected at least one model in the repository \S+ but received none \(models are <model>\/<version>\/model\.onnx\|model\.plan\) \[ERR_INVALID_ARGUMENT\]\n$/,
    );
    const misspelt = fixtureRepository({ mlp: 'batcher:\n  maxBatchsize: 8\n' });
    const config = runCli(['serve', misspelt, '--model', 'mlp', '--port', '0', '--grpc-port', 'off', '--metrics-port', 'off']);
    expect(config.status).toBe(2);
    expect(config.stderr).toBe(
      'tensorrt-node serve: Unknown key "maxBatchsize" in batcher of mlp/config.yaml (did you mean "maxBatchSize"?); known keys: maxBatchSize, maxDelayMs, preferredBatchSizes [ERR_UNKNOWN_OPTION]\n',
    );
    const unknown = runCli(['serve', misspelt, '--model', 'mpl', '--port', '0']);
    expect(unknown.stderr).toBe(
      'tensorrt-node serve: Expected a model of the repository for --model but received "mpl" (the repository has "conv", "mlp", "slow") [ERR_INVALID_ARGUMENT]\n',
    );
  });

  it('SIGTERM under keep-alive load: every request that reached the server is answered, none is reset, exit 0', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const body = mlpBody(JSON.stringify(new Array(16).fill(0.5)));
    const outcomes: { status?: number; close?: boolean; error?: string }[] = [];
    let signalled = false;
    const worker = async () => {
      while (outcomes.length < 2000) {
        try {
          const reply = await send(serving.urls.http, 'POST', '/v2/models/mlp/infer', body, agent);
          outcomes.push({ status: reply.status, close: reply.connection === 'close' });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
          outcomes.push({ error: code });
          // Refused: the request never reached the server (its listener is closed), as clients find out.
          if (code === 'ECONNREFUSED') return;
        }
        if (!signalled && outcomes.length >= 500) {
          signalled = true;
          serving.child.kill('SIGTERM');
        }
      }
    };
    // 'close': the process has exited and its stdout (the drain's log lines) has been read to the end.
    const exited = once(serving.child, 'close');
    await Promise.all(Array.from({ length: 16 }, worker));
    agent.destroy();
    const [code] = await exited;
    const resets = outcomes.filter((outcome) => outcome.error !== undefined && outcome.error !== 'ECONNREFUSED');
    expect(resets).toEqual([]);
    const answered = outcomes.filter((outcome) => outcome.status !== undefined);
    expect(answered.length).toBeGreaterThanOrEqual(500);
    expect(answered.filter((outcome) => !(outcome.status === 200 || (outcome.status === 503 && outcome.close)))).toEqual([]);
    expect(code).toBe(0);
    expect(serving.events.map((event) => event.event)).toEqual(
      expect.arrayContaining(['server.signal', 'server.draining', 'server.stopped']),
    );
    expect(serving.events.find((event) => event.event === 'server.stopped')).toMatchObject({
      level: 'info',
      forcedConnections: 0,
    });
  });
});
