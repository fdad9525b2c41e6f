/**
 * JSON Lines read as bytes, with a bound on what one line may hold. Node's readline keeps a whole
 * line in memory whatever its length: a 300 MB line cost 2 GB, and one over ~512 MB (V8's longest
 * string) crashed the process with an uncaught RangeError. Here a line longer than `maxLineBytes` is
 * never held: its bytes are counted and dropped up to its newline, and it is reported as too long.
 *
 * `readLines` gives the job's input line by line (the text of each line within the bound) and
 * `countRecords` counts records without keeping any line; both stream in chunks, so files of any
 * size are read in bounded memory.
 */
import { constants as bufferConstants } from 'node:buffer';
import { fileIo, openRegularFile } from '../core/file-io.js';

/** The default longest input line: 64 MiB, millions of values (a 3x640x640 image as JSON is ~12 MB). */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** The longest line a bound may allow: the longest string V8 can hold (about 512 MiB on 64-bit). */
export const MAX_LINE_BYTES_LIMIT = Math.min(512 * 1024 * 1024, bufferConstants.MAX_STRING_LENGTH);

const CHUNK_BYTES = 1024 * 1024;

/** One line of the input: its 1-based number and its text, or its length when over the bound. */
export type InputLine =
  { lineNumber: number; text: string; tooLong?: undefined } | { lineNumber: number; text?: undefined; tooLong: number };

/** Whether `bytes` hold only ASCII whitespace (a blank line, skipped: it is no record). */
function isBlank(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0b && byte !== 0x0c) return false;
  return true;
}

/** Reads `path` chunk by chunk (regular files only, links followed: a FIFO named as input is refused, not drained). */
async function* chunksOf(path: string): AsyncGenerator<Buffer> {
  const handle = await openRegularFile(path, { follow: true });
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let position = 0;
    while (true) {
      const filled = await fileIo.readInto(handle, buffer, position);
      if (filled === 0) return;
      position += filled;
      // A copy: the consumer may keep pieces of it while the buffer is refilled.
      yield Buffer.from(buffer.subarray(0, filled));
      if (filled < buffer.byteLength) return;
    }
  } finally {
    await handle.close();
  }
}

/** One line as the splitter sees it: number, length, blankness, and its text when it was kept. */
interface SplitLine {
  lineNumber: number;
  length: number;
  blank: boolean;
  /** The line's bytes, when `keep` allowed and it fits `maxLineBytes`. */
  bytes: Buffer | undefined;
}

/** Splits `path` into lines, keeping the bytes of those within `maxLineBytes` when `keep`. */
async function* splitLines(path: string, maxLineBytes: number, keep: boolean): AsyncGenerator<SplitLine> {
  let pieces: Buffer[] = [];
  let length = 0;
  let blank = true;
  let lineNumber = 0;
  const finish = (): SplitLine => {
    lineNumber++;
    const kept = keep && length <= maxLineBytes;
    const line: SplitLine = { lineNumber, length, blank, bytes: kept ? Buffer.concat(pieces, length) : undefined };
    pieces = [];
    length = 0;
    blank = true;
    return line;
  };
  const take = (piece: Buffer) => {
    if (piece.byteLength === 0) return;
    length += piece.byteLength;
    if (blank && !isBlank(piece)) blank = false;
    if (!keep) return;
    if (length > maxLineBytes)
      pieces = []; // over the bound: only counted from now on
    else pieces.push(piece);
  };
  for await (const chunk of chunksOf(path)) {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a, start); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      take(chunk.subarray(start, newline));
      yield finish();
      start = newline + 1;
    }
    take(chunk.subarray(start));
  }
  if (length > 0) yield finish();
}

/**
 * The non-blank lines of `path` in order, each with its line number; a line longer than
 * `maxLineBytes` comes as `{ tooLong: <its length in bytes> }` instead of its text. A last line
 * without a newline counts as a line.
 */
export async function* readLines(path: string, maxLineBytes: number): AsyncGenerator<InputLine> {
  for await (const line of splitLines(path, maxLineBytes, true)) {
    if (line.blank) continue;
    yield line.bytes === undefined
      ? { lineNumber: line.lineNumber, tooLong: line.length }
      : { lineNumber: line.lineNumber, text: line.bytes.toString('utf8') };
  }
}

/** Counts the records (non-blank lines) of `path` without holding any line. */
export async function countRecords(path: string): Promise<number> {
  let count = 0;
  for await (const line of splitLines(path, 0, false)) if (!line.blank) count++;
  return count;
}
