/**
 * The one message for using something after dispose(), shared by every disposable class so the
 * error reads the same from TypeScript and from native code ("... was disposed and can no longer
 * be used", code ERR_DISPOSED).
 */
import { ErrorCode, TensorRTNodeError } from './errors.js';

export function disposedError(what: string): TensorRTNodeError {
  return new TensorRTNodeError(ErrorCode.DISPOSED, `${what} was disposed and can no longer be used`);
}
