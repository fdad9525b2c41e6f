/**
 * Progress for long CLI steps: a line redrawn in place on a TTY, plain lines elsewhere (logs, CI,
 * pipes), at most about ten per step so that logs stay readable.
 */
export interface ProgressLine {
  update(done: number, total: number | null): void;
  finish(message: string): void;
}

export function progressLine(stream: NodeJS.WritableStream & { isTTY?: boolean }, label: string): ProgressLine {
  const tty = stream.isTTY === true;
  let lastReported = -1;
  let drawn = false;
  return {
    update(done, total) {
      if (tty) {
        const width = 24;
        const bar = total ? `[${'#'.repeat(Math.round((done / total) * width)).padEnd(width)}] ` : '';
        stream.write(`\r${label} ${bar}${done}${total ? `/${total}` : ''}`);
        drawn = true;
        return;
      }
      const step = total ? Math.max(1, Math.ceil(total / 10)) : 10;
      if (done === lastReported || (done % step !== 0 && done !== total)) return;
      lastReported = done;
      stream.write(`${label}: ${done}${total ? `/${total}` : ''}\n`);
    },
    finish(message) {
      stream.write(`${tty && drawn ? '\r\x1b[K' : ''}${label}: ${message}\n`);
    },
  };
}
