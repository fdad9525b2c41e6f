/**
 * A model behind HTTP: the KServe / Open Inference Protocol v2 REST endpoints served through a
 * dynamically batched InferenceSession, Prometheus metrics, request-size limits and graceful
 * shutdown. Copy this folder to start a service; see README.md next to it.
 *
 *   MODEL_PATH=model.onnx PORT=8000 npx tsx server.ts
 */
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import {
  InferenceSession,
  fromBfloat16Array,
  fromFloat16Array,
  isTensorRTNodeError,
  toBfloat16Array,
  toFloat16Array,
  type Batcher,
  type DType,
  type HostTensor,
  type SessionOptions,
  type TensorInfo,
} from 'tensorrt-node';

/** How long a shutdown waits for responses already being written before closing their connections. */
const SHUTDOWN_GRACE_MS = 30_000;

export interface ServiceOptions {
  /** The .onnx model (or a TensorRT engine on a GPU host). */
  model: string;
  /** The model's name in URLs and metrics (default: the file name). */
  name?: string;
  session?: SessionOptions;
  /** Dynamic batching (see session.batcher()). */
  maxBatchSize?: number;
  maxDelayMs?: number;
  /** Requests waiting beyond this get HTTP 503 (ERR_QUEUE_FULL). */
  maxQueue?: number;
  /** Per-request deadline in ms (HTTP 504 when exceeded). */
  timeoutMs?: number;
  /** Largest request body in bytes (HTTP 413 beyond it). Default 8 MiB. */
  bodyLimit?: number;
}

/** KServe v2 tensor datatypes and the dtypes that hold them. */
const datatypes: Record<string, DType> = { BOOL: 'bool', UINT8: 'uint8', INT8: 'int8', INT32: 'int32', INT64: 'int64', FP16: 'float16', BF16: 'bfloat16', FP32: 'float32', FP64: 'float64' };
const datatypeOf = (dtype: DType): string => Object.entries(datatypes).find(([, value]) => value === dtype)?.[0] ?? dtype.toUpperCase();

/** A client mistake: answered with HTTP 400 and this message. */
class BadRequest extends Error {
  readonly statusCode = 400;
}

interface InferInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

function flatten(data: unknown[], into: unknown[] = []): unknown[] {
  for (const item of data) {
    if (Array.isArray(item)) flatten(item, into);
    else into.push(item);
  }
  return into;
}

/** One request input as a feed, every field checked (the session checks dtypes and shapes again). */
function toFeed(input: unknown, index: number, model: readonly TensorInfo[]): [string, unknown] {
  if (typeof input !== 'object' || input === null) throw new BadRequest(`inputs[${index}] must be an object with name, shape, datatype and data`);
  const { name, shape, datatype, data } = input as Partial<InferInput>;
  if (typeof name !== 'string') throw new BadRequest(`inputs[${index}].name must be a string`);
  const info = model.find((candidate) => candidate.name === name);
  if (!info) throw new BadRequest(`inputs[${index}].name "${name}" is not an input of the model (inputs: ${model.map((candidate) => `"${candidate.name}"`).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) throw new BadRequest(`inputs[${index}].shape must be an array of non-negative integers`);
  if (datatype !== datatypeOf(info.dtype)) throw new BadRequest(`inputs[${index}] ("${name}") must have datatype ${datatypeOf(info.dtype)}, not ${JSON.stringify(datatype)}`);
  if (!Array.isArray(data)) throw new BadRequest(`inputs[${index}].data must be an array (flat or nested)`);
  const values = flatten(data);
  const count = shape.reduce((product, dim) => product * dim, 1);
  if (values.length !== count) throw new BadRequest(`inputs[${index}] ("${name}") has ${values.length} values for shape [${shape.join(', ')}] (${count} expected)`);
  if (info.dtype === 'float16' || info.dtype === 'bfloat16') {
    if (!values.every((value) => typeof value === 'number')) throw new BadRequest(`inputs[${index}] ("${name}") data must be numbers`);
    const bits = info.dtype === 'float16' ? toFloat16Array(values as number[]) : toBfloat16Array(values as number[]);
    return [name, { dtype: info.dtype, shape, data: bits }];
  }
  return [name, { data: values, shape }];
}

/** An output tensor as KServe v2 JSON: float16 as values, int64 as numbers (strings beyond 2^53). */
function toOutput(name: string, tensor: HostTensor) {
  let data: unknown[];
  if (tensor.dtype === 'float16') data = Array.from(fromFloat16Array(tensor.data as Uint16Array));
  else if (tensor.dtype === 'bfloat16') data = Array.from(fromBfloat16Array(tensor.data as Uint16Array));
  else if (tensor.dtype === 'int64') data = Array.from(tensor.data as BigInt64Array, (value) => (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString()));
  else if (tensor.dtype === 'bool') data = Array.from(tensor.data as Uint8Array, (value) => value !== 0);
  else data = Array.from(tensor.data as ArrayLike<number>);
  return { name, datatype: datatypeOf(tensor.dtype), shape: tensor.shape, data };
}

/** HTTP status for a library error: bad input is the client's, overload and deadlines are not. */
function statusOf(error: unknown): number {
  if (!isTensorRTNodeError(error)) return 500;
  switch (error.code) {
    case 'ERR_INVALID_ARGUMENT':
    case 'ERR_SHAPE':
    case 'ERR_DTYPE':
    case 'ERR_UNKNOWN_OPTION':
      return 400;
    case 'ERR_QUEUE_FULL':
    case 'ERR_DISPOSED':
      return 503;
    case 'ERR_TIMEOUT':
      return 504;
    case 'ERR_ABORTED':
      return 499;
    default:
      return 500;
  }
}

export interface Service {
  app: FastifyInstance;
  session: InferenceSession;
  batcher: Batcher;
  /** Graceful shutdown: not ready, stop accepting, finish every accepted request, release the model. */
  close(): Promise<void>;
}

export async function createService(options: ServiceOptions): Promise<Service> {
  const session = await InferenceSession.create(options.model, { ...options.session, ...(options.name ? { name: options.name } : {}) });
  const batcher = session.batcher({ maxBatchSize: options.maxBatchSize ?? 32, maxDelayMs: options.maxDelayMs ?? 0, maxQueue: options.maxQueue ?? 1024, timeoutMs: options.timeoutMs ?? 10_000 });
  const name = session.name;
  let ready = true;
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 8 * 1024 * 1024, logger: false });
  // Responses not yet handed to the OS in full. Node's closeIdleConnections() counts a connection as
  // idle once end() was called, and would cut a large response still being written: shutdown waits
  // for this to reach 0 instead.
  let responding = 0;
  app.addHook('onRequest', (_request, reply, done) => {
    responding++;
    reply.raw.once('close', () => responding--);
    done();
  });

  // Every error is answered as KServe's { error } with the right status; the server keeps serving.
  app.setErrorHandler((error: FastifyError | Error, _request, reply) => {
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : statusOf(error);
    void reply.code(status).send({ error: error.message });
  });
  app.setNotFoundHandler((request, reply) => void reply.code(404).send({ error: `No route ${request.method} ${request.url}` }));

  const checkModel = (modelName: string) => {
    if (modelName !== name) throw Object.assign(new Error(`Unknown model "${modelName}"; this server serves "${name}"`), { statusCode: 404 });
  };
  const tensorMetadata = (info: TensorInfo) => ({ name: info.name, datatype: datatypeOf(info.dtype), shape: info.shape });

  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) => reply.code(ready ? 200 : 503).send({ ready }));
  app.get('/v2', async () => ({ name: 'tensorrt-node', version: '1', extensions: [] }));
  app.get<{ Params: { model: string } }>('/v2/models/:model', async (request) => {
    checkModel(request.params.model);
    return { name, versions: ['1'], platform: session.backend === 'tensorrt' ? 'tensorrt_plan' : 'onnxruntime_onnx', inputs: session.inputs.map(tensorMetadata), outputs: session.outputs.map(tensorMetadata) };
  });
  app.get<{ Params: { model: string } }>('/v2/models/:model/ready', async (request, reply) => {
    checkModel(request.params.model);
    return reply.code(ready ? 200 : 503).send({ name, ready });
  });
  app.post<{ Params: { model: string }; Body: unknown }>('/v2/models/:model/infer', async (request, reply) => {
    checkModel(request.params.model);
    const body = request.body;
    if (typeof body !== 'object' || body === null || !Array.isArray((body as { inputs?: unknown }).inputs)) throw new BadRequest('The request body must be a JSON object with an "inputs" array');
    const { id, inputs, outputs } = body as { id?: unknown; inputs: unknown[]; outputs?: unknown };
    const feeds = Object.fromEntries(inputs.map((input, index) => toFeed(input, index, session.inputs)));
    let requested: string[] | undefined;
    if (outputs !== undefined) {
      if (!Array.isArray(outputs) || !outputs.every((output) => typeof output === 'object' && output !== null && typeof (output as { name?: unknown }).name === 'string')) throw new BadRequest('"outputs" must be an array of { name }');
      requested = outputs.map((output) => (output as { name: string }).name);
    }
    // A client that hangs up cancels its request (its rows are dropped from the batch).
    const controller = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) controller.abort(new Error('the client closed the connection'));
    });
    const results = await batcher.run(feeds as never, { signal: controller.signal, ...(requested ? { outputs: requested } : {}) });
    return { model_name: name, model_version: '1', ...(typeof id === 'string' ? { id } : {}), outputs: Object.entries(results).map(([outputName, tensor]) => toOutput(outputName, tensor)) };
  });
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(session.prometheusMetrics()));

  let closing: Promise<void> | null = null;
  return {
    app,
    session,
    batcher,
    close() {
      closing ??= (async () => {
        ready = false;
        // Stop accepting connections (requests arriving on open ones get 503); this resolves once
        // every connection is closed, which keep-alive would delay by keepAliveTimeout (72 s).
        const closed = app.close();
        // Every request already accepted by the batcher gets its result.
        await session.dispose({ drain: true });
        // Wait until every response is out (a large one can take seconds to write to a slow
        // client), up to the grace period; then close every connection, idle by then.
        const graceUntil = Date.now() + SHUTDOWN_GRACE_MS;
        while (responding > 0 && Date.now() < graceUntil) await new Promise((resolve) => setTimeout(resolve, 10));
        app.server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}

async function main(): Promise<void> {
  const model = process.env.MODEL_PATH ?? process.argv[2];
  if (!model) {
    console.error('Usage: MODEL_PATH=model.onnx [PORT=8000] [HOST=0.0.0.0] tsx server.ts');
    process.exitCode = 2;
    return;
  }
  const number = (variable: string): number | undefined => (process.env[variable] === undefined ? undefined : Number(process.env[variable]));
  const service = await createService({
    model,
    name: process.env.MODEL_NAME,
    session: { backend: (process.env.BACKEND as SessionOptions['backend']) ?? 'auto', contexts: number('CONTEXTS') ?? 1 },
    maxBatchSize: number('MAX_BATCH_SIZE'),
    maxDelayMs: number('MAX_DELAY_MS'),
    maxQueue: number('MAX_QUEUE'),
    timeoutMs: number('TIMEOUT_MS'),
    bodyLimit: number('BODY_LIMIT'),
  });
  const address = await service.app.listen({ port: number('PORT') ?? 8000, host: process.env.HOST ?? '0.0.0.0' });
  console.log(`serving "${service.session.name}" on ${service.session.backend} (${service.session.backendReason}) at ${address}`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: draining`);
      service.close().then(
        () => console.log('drained, bye'),
        (error: unknown) => {
          console.error(error);
          process.exitCode = 1;
        },
      );
    });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
