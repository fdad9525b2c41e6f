/**
 * The API key check: `Authorization: Bearer <key>`, compared in constant time. Both sides are hashed
 * first, so the comparison takes the same time whatever the lengths and wherever they differ: a
 * client learns nothing about the key from how long a refusal takes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export class ApiKey {
  readonly #digest: Buffer;

  constructor(key: string) {
    this.#digest = digest(key);
  }

  /** Whether `authorization` (an Authorization header value) carries the key. */
  accepts(authorization: string | undefined): boolean {
    const match = authorization === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    // A missing or malformed header is compared too, so that it takes as long as a wrong key.
    return timingSafeEqual(digest(match?.[1] ?? ''), this.#digest) && match !== null;
  }
}
