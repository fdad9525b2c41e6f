/**
 * Clients of any Open Inference Protocol server (tensorrt-node serve, Triton, KServe runtimes) for
 * the load generator: REST with JSON or with the binary tensor data extension, and gRPC with raw
 * tensor contents. Each prepares its request once (inputs generated from the model's metadata) and
 * sends the same bytes every time, so the client's cost per request is the transport's alone.
 * A failed request rejects with a LoadFailure whose `code` names what happened ("http_503",
 * "grpc_UNAVAILABLE", "ECONNRESET", "client_timeout"), counted per code by the drivers.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type * as Grpc from '@grpc/grpc-js';
import { ArgumentRangeError, ErrorCode, TensorRTNodeError } from '../../core/errors.js';
import { createRandom } from '../../onnx/random.js';
import { dtypeOf, type Datatype } from '../../protocol/datatypes.js';
import { loadPredictService } from '../../protocol/grpc.js';
import { typedArrayBytes, typedArrayToJsonText } from '../../protocol/tensor-data.js';
import { allocateTypedArray, type AnyTypedArray, type DType } from '../../core/dtypes.js';

/** How a remote benchmark talks to the server: Open Inference Protocol REST or gRPC. */
export type Protocol = 'rest' | 'grpc';

export class LoadFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'LoadFailure';
    this.code = code;
  }
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface RemoteModel {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface RemoteServer {
  name: string;
  version: string;
}

export interface ClientOptions {
  /** http(s)://host:port for REST; host:port (or grpc://host:port) for gRPC. */
  url: string;
  model: string;
  version: string | undefined;
  /** REST: the binary tensor data extension for inputs and outputs. */
  binary: boolean;
  /** Bearer token for servers that require one. */
  apiKey: string | undefined;
  /** Per-request client timeout in ms. */
  timeoutMs: number;
  /** Most connections a REST client opens (requests beyond wait for one). */
  connections: number;
}

export interface GeneratedInput {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: AnyTypedArray;
}

export interface InferClient {
  readonly protocol: Protocol;
  server(): Promise<RemoteServer>;
  model(): Promise<RemoteModel>;
  /** Prepares the request sent by every infer() call. */
  prepare(inputs: GeneratedInput[]): void;
  /** One request; resolves when the whole response has arrived. */
  infer(): Promise<void>;
  close(): void;
}

/** Seeded inputs for the model's metadata: dynamic dims from `shapes`, else dim 0 from `batch`. */
export function generateInputs(
  model: RemoteModel,
  batch: number,
  shapes: Readonly<Record<string, readonly number[]>> | null,
  seed = 7,
): GeneratedInput[] {
  const random = createRandom(seed);
  return model.inputs.map((input) => {
    const dtype = dtypeOf(input.datatype);
    if (dtype === undefined)
      throw new TensorRTNodeError(
        ErrorCode.NOT_SUPPORTED,
        `Input "${input.name}" of model "${model.name}" has datatype ${input.datatype}, which the load generator cannot generate`,
      );
    const given = shapes?.[input.name];
    const shape = given
      ? [...given]
      : input.shape.map((dim, axis) => {
          if (dim >= 0) return dim;
          if (axis === 0) return batch;
          throw new ArgumentRangeError(
            `Expected --shape ${input.name}:... for input "${input.name}" of shape [${input.shape.join(', ')}] (dynamic beyond dim 0) but received none`,
          );
        });
    if (
      given &&
      (given.length !== input.shape.length || given.some((dim, axis) => input.shape[axis]! >= 0 && input.shape[axis] !== dim))
    ) {
      throw new ArgumentRangeError(
        `Expected a shape matching [${input.shape.join(', ')}] for --shape ${input.name} but received [${given.join(', ')}]`,
      );
    }
    const count = shape.reduce((product, dim) => product * dim, 1);
    return { name: input.name, datatype: input.datatype as Datatype, shape, data: fill(dtype, count, random) };
  });
}

function fill(dtype: DType, count: number, random: ReturnType<typeof createRandom>): AnyTypedArray {
  const data = allocateTypedArray(dtype, count);
  for (let index = 0; index < count; index++) {
    switch (dtype) {
      case 'float32':
      case 'float64':
        (data as Float32Array)[index] = random.uniform(-1, 1);
        break;
      case 'int64':
        (data as BigInt64Array)[index] = BigInt(Math.floor(random.uniform(0, 16)));
        break;
      case 'bool':
        (data as Uint8Array)[index] = random.next() < 0.5 ? 1 : 0;
        break;
      case 'float16':
      case 'bfloat16':
        // 0x3c00 is 1.0 in float16 and about 1.0 (0x3f80) in bfloat16: small positive values in both.
        (data as Uint16Array)[index] =
          dtype === 'float16' ? 0x3c00 - Math.floor(random.uniform(0, 1024)) : 0x3f80 - Math.floor(random.uniform(0, 64));
        break;
      default:
        (data as Int32Array)[index] = Math.floor(random.uniform(0, 16));
    }
  }
  return data;
}

function describeNetworkError(error: NodeJS.ErrnoException): LoadFailure {
  if (error instanceof LoadFailure) return error;
  return new LoadFailure(error.code ?? 'network_error', error.message);
}

/** REST (KServe v2 / Open Inference Protocol) over node:http with keep-alive connections. */
export class RestClient implements InferClient {
  readonly protocol = 'rest' as const;
  readonly #options: ClientOptions;
  readonly #base: URL;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  readonly #modelPath: string;
  readonly #inferPath: string;
  #body: Buffer | null = null;
  #headers: Record<string, string | number> = {};

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#base = new URL(options.url);
    const secure = this.#base.protocol === 'https:';
    this.#agent = new (secure ? HttpsAgent : HttpAgent)({ keepAlive: true, maxSockets: options.connections });
    this.#request = secure ? httpsRequest : httpRequest;
    this.#modelPath = `/v2/models/${encodeURIComponent(options.model)}${options.version ? `/versions/${encodeURIComponent(options.version)}` : ''}`;
    this.#inferPath = `${this.#modelPath}/infer`;
  }

  #authHeaders(): Record<string, string> {
    return this.#options.apiKey ? { authorization: `Bearer ${this.#options.apiKey}` } : {};
  }

  #send(
    method: 'GET' | 'POST',
    path: string,
    body: Buffer | null,
    headers: Record<string, string | number>,
  ): Promise<{ status: number; body: Buffer; response: IncomingMessage }> {
    return new Promise((resolve, reject) => {
      const request = this.#request(
        {
          protocol: this.#base.protocol,
          hostname: this.#base.hostname,
          port: this.#base.port,
          path,
          method,
          agent: this.#agent,
          headers,
          timeout: this.#options.timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
              response,
            }),
          );
          response.on('error', (error: NodeJS.ErrnoException) => reject(describeNetworkError(error)));
        },
      );
      request.on('timeout', () =>
        request.destroy(new LoadFailure('client_timeout', `no response within ${this.#options.timeoutMs} ms`)),
      );
      request.on('error', (error: NodeJS.ErrnoException) => reject(describeNetworkError(error)));
      request.end(body ?? undefined);
    });
  }

  async #getJson(path: string): Promise<unknown> {
    const { status, body } = await this.#send('GET', path, null, this.#authHeaders());
    if (status !== 200)
      throw new TensorRTNodeError(
        ErrorCode.IO,
        `GET ${this.#base.origin}${path} answered HTTP ${status}: ${body.toString('utf8').slice(0, 300)}`,
      );
    return JSON.parse(body.toString('utf8'));
  }

  async server(): Promise<RemoteServer> {
    const metadata = (await this.#getJson('/v2')) as { name?: string; version?: string };
    return { name: String(metadata.name ?? 'unknown'), version: String(metadata.version ?? 'unknown') };
  }

  async model(): Promise<RemoteModel> {
    return (await this.#getJson(this.#modelPath)) as RemoteModel;
  }

  prepare(inputs: GeneratedInput[]): void {
    const tensors = inputs.map(
      (input) => `{"name":${JSON.stringify(input.name)},"shape":[${input.shape.join(',')}],"datatype":"${input.datatype}"`,
    );
    if (!this.#options.binary) {
      this.#body = Buffer.from(
        `{"inputs":[${inputs.map((input, index) => `${tensors[index]},"data":${typedArrayToJsonText(dtypeOf(input.datatype)!, input.data)}}`).join(',')}]}`,
      );
      this.#headers = { ...this.#authHeaders(), 'content-type': 'application/json', 'content-length': this.#body.byteLength };
      return;
    }
    const header = Buffer.from(
      `{"inputs":[${inputs.map((input, index) => `${tensors[index]},"parameters":{"binary_data_size":${input.data.byteLength}}}`).join(',')}],"parameters":{"binary_data_output":true}}`,
    );
    this.#body = Buffer.concat([header, ...inputs.map((input) => typedArrayBytes(input.data))]);
    this.#headers = {
      ...this.#authHeaders(),
      'content-type': 'application/octet-stream',
      'inference-header-content-length': header.byteLength,
      'content-length': this.#body.byteLength,
    };
  }

  async infer(): Promise<void> {
    const { status, body } = await this.#send('POST', this.#inferPath, this.#body, this.#headers);
    if (status !== 200) throw new LoadFailure(`http_${status}`, `HTTP ${status}: ${body.toString('utf8').slice(0, 300)}`);
  }

  /** One request whose response is returned (the load generator checks the first one). */
  async inferOnce(): Promise<{ status: number; body: Buffer; headerLength: number | null }> {
    const { status, body, response } = await this.#send('POST', this.#inferPath, this.#body, this.#headers);
    const header = response.headers['inference-header-content-length'];
    return { status, body, headerLength: typeof header === 'string' ? Number(header) : null };
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** gRPC (inference.GRPCInferenceService) with raw_input_contents, as Triton's clients send. */
export class GrpcClient implements InferClient {
  readonly protocol = 'grpc' as const;
  readonly #options: ClientOptions;
  readonly #grpc: typeof Grpc;
  readonly #client: Grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  /**
   * Sent with every call, built by the first: grpc-js clones the metadata it is given
   * (ResolvingCall.start) and never changes it. Built in #call so that a key Metadata refuses
   * fails the first call, as it did when each call built its own.
   */
  #metadata: Grpc.Metadata | undefined;
  #request: Record<string, unknown> = {};

  private constructor(options: ClientOptions, grpc: typeof Grpc, client: Grpc.Client) {
    this.#options = options;
    this.#grpc = grpc;
    this.#client = client as Grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  }

  #callMetadata(): Grpc.Metadata {
    if (this.#metadata) return this.#metadata;
    const metadata = new this.#grpc.Metadata();
    if (this.#options.apiKey) metadata.set('authorization', `Bearer ${this.#options.apiKey}`);
    return (this.#metadata = metadata);
  }

  static async connect(options: ClientOptions): Promise<GrpcClient> {
    const { grpc, Client } = await loadPredictService();
    const address = options.url.replace(/^(grpc|http):\/\//, '').replace(/\/$/, '');
    const client = new Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
    return new GrpcClient(options, grpc, client);
  }

  #call<T>(method: string, request: unknown): Promise<T> {
    const metadata = this.#callMetadata();
    return new Promise((resolve, reject) => {
      this.#client[method]!(
        request,
        metadata,
        { deadline: Date.now() + this.#options.timeoutMs },
        (error: Grpc.ServiceError | null, response: T) => {
          if (error)
            reject(new LoadFailure(`grpc_${this.#grpc.status[error.code] ?? error.code}`, error.details || error.message));
          else resolve(response);
        },
      );
    });
  }

  async server(): Promise<RemoteServer> {
    const metadata = await this.#call<{ name: string; version: string }>('ServerMetadata', {});
    return { name: metadata.name, version: metadata.version };
  }

  async model(): Promise<RemoteModel> {
    const metadata = await this.#call<RemoteModel & { inputs: { shape: string[] }[]; outputs: { shape: string[] }[] }>(
      'ModelMetadata',
      { name: this.#options.model, version: this.#options.version ?? '' },
    );
    const numbers = (tensors: { name: string; datatype: string; shape: (string | number)[] }[]) =>
      tensors.map((tensor) => ({ ...tensor, shape: tensor.shape.map(Number) }));
    return { ...metadata, inputs: numbers(metadata.inputs), outputs: numbers(metadata.outputs) };
  }

  prepare(inputs: GeneratedInput[]): void {
    this.#request = {
      model_name: this.#options.model,
      model_version: this.#options.version ?? '',
      inputs: inputs.map((input) => ({ name: input.name, datatype: input.datatype, shape: input.shape })),
      raw_input_contents: inputs.map((input) => Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength)),
    };
  }

  async infer(): Promise<void> {
    await this.#call('ModelInfer', this.#request);
  }

  /** One request whose response is returned (the load generator checks the first one). */
  inferOnce(): Promise<{ outputs: { name: string; datatype: string; shape: string[] }[]; raw_output_contents: Buffer[] }> {
    return this.#call('ModelInfer', this.#request);
  }

  close(): void {
    this.#client.close();
  }
}

export async function createClient(protocol: Protocol, options: ClientOptions): Promise<RestClient | GrpcClient> {
  return protocol === 'grpc' ? GrpcClient.connect(options) : new RestClient(options);
}
