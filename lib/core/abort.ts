/**
 * The one ERR_ABORTED of tensorrt-node, whatever was aborted (a run queued or executing, a cache
 * wait, an engine load or build, a calibration): "<what> was aborted[ <when>][ (<reason>)]", with the
 * signal's reason as `cause`, an AbortError (`name` 'AbortError', as Node's own aborts) of the
 * family (`instanceof TensorRTNodeError`). The reason is shown when the caller gave one (`controller.abort(why)`);
 * the default "This operation was aborted" adds nothing to "was aborted" and is left out.
 */
import { AbortError } from './errors.js';

const defaultReasonMessage = (AbortSignal.abort().reason as Error).message;

function reasonText(reason: unknown): string | undefined {
  if (reason === undefined) return undefined;
  if (reason instanceof Error)
    return reason.name === 'AbortError' && reason.message === defaultReasonMessage ? undefined : reason.message;
  return String(reason);
}

/**
 * `what` names the operation ("The run", "Engine.load"); `when` says at which point it stopped where
 * that matters to the caller ("after it had started: ...").
 */
export function abortError(what: string, signal?: AbortSignal, when?: string): AbortError {
  const reason = reasonText(signal?.reason);
  const message = `${what} was aborted${when ? ` ${when}` : ''}${reason === undefined ? '' : ` (${reason})`}`;
  return new AbortError(message, signal?.reason === undefined ? {} : { cause: signal.reason });
}

/**
 * Native code knows only that it was cancelled, not the signal's reason: a native ERR_ABORTED
 * rejection becomes this module's AbortError (message with the reason, the reason as `cause`).
 */
export function asAbortOf(error: unknown, what: string, signal: AbortSignal | undefined, when?: string): unknown {
  const aborted = typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ERR_ABORTED';
  return aborted && signal?.aborted ? abortError(what, signal, when) : error;
}
