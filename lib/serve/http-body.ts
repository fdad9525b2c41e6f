/**
 * Reads a request body within a size limit and a deadline. A Content-Length over the limit is
 * refused before a byte is read; a chunked body is refused as soon as it passes the limit; a body
 * that trickles in (1 byte every 10 s) is refused when the deadline passes, whatever its pace.
 */
import type { IncomingMessage } from 'node:http';
import { ServeError } from './errors.js';

export interface BodyReadLimits {
  maxBytes: number;
  /** From the end of the headers to the last byte of the body. */
  timeoutMs: number;
}

export function bodyTooLarge(maxBytes: number, received: string): ServeError {
  return new ServeError(413, `Expected a request body of at most ${maxBytes} bytes but received ${received}`, {
    code: 'ERR_BODY_TOO_LARGE',
  });
}

/** Resolves with the whole body; rejects with a ServeError (413, 408) or, when the client goes away, a plain Error. */
export function readBody(request: IncomingMessage, { maxBytes, timeoutMs }: BodyReadLimits): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes)
    return Promise.reject(bodyTooLarge(maxBytes, `Content-Length ${declared}`));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (error: unknown, body?: Buffer) => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
      if (error === undefined) resolve(body!);
      else {
        // Stop reading: the response (sent with Connection: close) ends the exchange.
        request.pause();
        reject(error);
      }
    };
    const onData = (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > maxBytes) finish(bodyTooLarge(maxBytes, `more (${received} bytes so far)`));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    const onError = (error: Error) => finish(error);
    const onClose = () => finish(new Error('the client closed the connection before sending the whole body'));
    const timer = setTimeout(
      () =>
        finish(
          new ServeError(408, `Expected the request body within ${timeoutMs} ms but received ${received} bytes by then`, {
            code: 'ERR_BODY_TIMEOUT',
          }),
        ),
      timeoutMs,
    );
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}
