/**
 * The bad-input matrix: one table of rows per public surface, each row a call that must fail with
 * an exact error class, `code` and message (an exact RegExp where the message embeds a temporary
 * path or what this machine lacks). test/matrix/matrix.test.ts runs every table; adding a surface
 * (InferenceSession, the batcher, TensorRT execution contexts) is adding a file under ./cases/ and
 * one line in ./cases/index.ts.
 *
 * Rows receive a MatrixContext with the fixtures they need (a temporary folder, a model, a live and
 * a disposed cpu backend, tensors), created lazily once per run and cleaned up after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type ErrorClass = abstract new (...args: never[]) => Error;

/** What a row expects: class, code, message. */
export type Expectation = readonly [errorClass: ErrorClass, code: string, message: string | RegExp];

export interface MatrixRow {
  /** What is wrong with the call, e.g. `Tensor.allocate() with a NaN dim`. */
  name: string;
  /** The bad call; may throw or return a promise that rejects. */
  call: (context: MatrixContext) => unknown;
  expect: Expectation;
  /** A reason to skip on this machine (a GPU-only row without a GPU, ...), or false. */
  skip?: string | false;
}

/** A CLI row: argv after `tensorrt-node`; the command's own error and main()'s exit code 2 line are both checked. */
export interface CliRow {
  name: string;
  argv: (context: MatrixContext) => string[];
  expect: Expectation;
  skip?: string | false;
}

export interface MatrixTable {
  surface: string;
  rows?: MatrixRow[];
  cliRows?: CliRow[];
}

/** Fixtures shared by every table, built on first use. */
export class MatrixContext {
  readonly #cleanups: (() => Promise<void> | void)[] = [];
  readonly #memo = new Map<string, Promise<unknown> | unknown>();
  #folder: string | undefined;

  /** A temporary folder for this run. */
  get folder(): string {
    if (!this.#folder) {
      this.#folder = mkdtempSync(join(tmpdir(), 'tensorrt-node-matrix-'));
      const folder = this.#folder;
      this.#cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
    }
    return this.#folder;
  }

  /** A value made once per run; `dispose` runs at the end. */
  once<T>(key: string, make: () => T, dispose?: (value: Awaited<T>) => Promise<void> | void): T {
    if (!this.#memo.has(key)) {
      const value = make();
      this.#memo.set(key, value);
      if (dispose) this.#cleanups.push(async () => dispose(await value));
    }
    return this.#memo.get(key) as T;
  }

  async dispose(): Promise<void> {
    for (const cleanup of this.#cleanups.reverse()) await cleanup();
  }
}

/** A row, compactly: `row('name', (ctx) => call(), [Class, code, message])`. */
export function row(
  name: string,
  call: (context: MatrixContext) => unknown,
  expect: Expectation,
  skip: string | false = false,
): MatrixRow {
  return { name, call, expect, skip };
}

export function cliRow(
  name: string,
  argv: string[] | ((context: MatrixContext) => string[]),
  expect: Expectation,
  skip: string | false = false,
): CliRow {
  return { name, argv: typeof argv === 'function' ? argv : () => argv, expect, skip };
}

/** Escapes text for an exact RegExp around an embedded path: re`Cannot read ${path}: gone`. */
export function exact(strings: TemplateStringsArray, ...parts: (string | RegExp)[]): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let source = '^';
  strings.forEach((text, index) => {
    source += escape(text);
    if (index < parts.length) {
      const part = parts[index]!;
      source += typeof part === 'string' ? escape(part) : part.source;
    }
  });
  return new RegExp(`${source}$`, 's');
}
