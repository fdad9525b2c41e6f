/**
 * What a shared library needs from the system it loads on: the newest glibc / libstdc++ symbol
 * versions it references (its glibc floor) and the libraries it links dynamically. Read with binutils'
 * objdump, which every build image has.
 */
import { execFileSync } from 'node:child_process';

export interface ElfRequirements {
  /** Newest GLIBC_x.y referenced: the oldest glibc that can load the file. */
  glibc: string | null;
  /** Newest GLIBCXX_x.y.z referenced (libstdc++). */
  glibcxx: string | null;
  /** DT_NEEDED entries. */
  needed: string[];
}

export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function newest(versions: Iterable<string>): string | null {
  let best: string | null = null;
  for (const version of versions) if (best === null || compareVersions(version, best) > 0) best = version;
  return best;
}

/** Parses `objdump -T` (dynamic symbols) and `objdump -p` (headers) output. */
export function parseElfRequirements(dynamicSymbols: string, headers: string): ElfRequirements {
  const undefinedLines = dynamicSymbols.split('\n').filter((line) => line.includes('*UND*'));
  const versions = (prefix: string) =>
    undefinedLines.flatMap((line) => [...line.matchAll(new RegExp(`\\(${prefix}_([0-9.]+)\\)`, 'g'))].map((match) => match[1]!));
  const needed = [...headers.matchAll(/^\s*NEEDED\s+(\S+)/gm)].map((match) => match[1]!);
  return { glibc: newest(versions('GLIBC')), glibcxx: newest(versions('GLIBCXX')), needed };
}

export function elfRequirements(file: string): ElfRequirements {
  const dynamicSymbols = execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const headers = execFileSync('objdump', ['-p', file], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return parseElfRequirements(dynamicSymbols, headers);
}
