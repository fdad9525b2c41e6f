/**
 * The Open Inference Protocol over gRPC (`inference.GRPCInferenceService` from the vendored
 * grpc_predict_v2.proto) on @grpc/grpc-js, through the same InferenceHandler as REST. Inputs come as
 * raw_input_contents or typed contents; outputs go back as raw_output_contents. The API key travels
 * as `authorization: Bearer <key>` metadata; a gRPC deadline becomes the request's deadline and a
 * cancelled call aborts its request.
 */
import type * as Grpc from '@grpc/grpc-js';
import { loadPredictService, type GrpcModelInferRequest } from '../protocol/grpc.js';
import { decodeGrpcInferRequest, encodeGrpcInferResponse } from '../protocol/grpc-messages.js';
import type { ApiKey } from './auth.js';
import { GrpcStatus, ServeError, toServeError } from './errors.js';
import type { InferenceHandler } from './handler.js';
import type { Logger } from './logger.js';

export interface GrpcServerOptions {
  handler: InferenceHandler;
  apiKey: ApiKey | null;
  /** Largest request message (the REST body limit). */
  maxMessageBytes: number;
  /** Most elements one tensor may have. */
  maxTensorElements: number;
  logger: Logger;
}

type Call = Grpc.ServerUnaryCall<Record<string, unknown>, unknown>;
type Callback = Grpc.sendUnaryData<unknown>;

function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class GrpcServer {
  readonly #server: Grpc.Server;
  readonly #grpc: typeof Grpc;
  #nextRequest = 0;

  private constructor(grpc: typeof Grpc, server: Grpc.Server) {
    this.#grpc = grpc;
    this.#server = server;
  }

  static async create(options: GrpcServerOptions): Promise<GrpcServer> {
    const { grpc, service } = await loadPredictService();
    const server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': -1,
    });
    const instance = new GrpcServer(grpc, server);
    server.addService(service, instance.#handlers(options));
    return instance;
  }

  #handlers({ handler, apiKey, maxTensorElements, logger }: GrpcServerOptions): Grpc.UntypedServiceImplementation {
    const unary =
      (authenticated: boolean, body: (request: Record<string, unknown>, call: Call, requestId: string) => unknown) =>
      (call: Call, callback: Callback) => {
        const requestId = `g${++this.#nextRequest}`;
        const fail = (error: unknown) => {
          const served = toServeError(error, requestId);
          if (served.serverFault) logger.error('request.failed', { requestId, transport: 'grpc', status: served.status, error });
          callback({ code: served.grpcCode, details: served.message });
        };
        try {
          if (authenticated && apiKey && !apiKey.accepts(call.metadata.get('authorization')[0]?.toString())) {
            throw new ServeError(
              401,
              'Expected an API key (authorization: Bearer <key> metadata) but received none or a wrong one',
              { grpcCode: GrpcStatus.UNAUTHENTICATED },
            );
          }
          Promise.resolve(body(call.request, call, requestId)).then((value) => callback(null, value), fail);
        } catch (error) {
          fail(error);
        }
      };
    const version = (request: Record<string, unknown>) => (request.version === '' ? undefined : (request.version as string));
    return {
      ServerLive: unary(false, () => ({ live: handler.live() })),
      ServerReady: unary(false, () => ({ ready: handler.ready() })),
      ModelReady: unary(true, (request) => ({ ready: handler.modelReady(request.name as string, version(request)) })),
      ServerMetadata: unary(true, () => handler.serverMetadata()),
      ModelMetadata: unary(true, (request) => handler.modelMetadata(request.name as string, version(request))),
      ModelInfer: unary(true, async (request, call) => {
        const message = request as unknown as GrpcModelInferRequest;
        const decoded = decodeGrpcInferRequest(message, maxTensorElements);
        const controller = new AbortController();
        call.once('cancelled', () => controller.abort(new Error('the client cancelled the call')));
        const deadline = call.getDeadline();
        const deadlineMs =
          deadline instanceof Date
            ? deadline.getTime() - Date.now()
            : Number.isFinite(deadline)
              ? deadline - Date.now()
              : undefined;
        const response = await handler.infer(
          message.model_name,
          message.model_version === '' ? undefined : message.model_version,
          decoded,
          {
            signal: controller.signal,
            ...(deadlineMs !== undefined ? { deadlineMs } : {}),
          },
        );
        return encodeGrpcInferResponse(response);
      }),
    };
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(hostPort(host, port), this.#grpc.ServerCredentials.createInsecure(), (error, bound) => {
        if (error) reject(error);
        else resolve(bound);
      });
    });
  }

  /** Refuses new calls, lets the calls in flight finish until `deadline` (performance.now() ms), then cuts the rest. */
  drain(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.#server.forceShutdown();
          resolve();
        },
        Math.max(0, deadline - performance.now()),
      );
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
