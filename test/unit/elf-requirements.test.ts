import { describe, expect, it } from 'vitest';
import { compareVersions, parseElfRequirements } from '../../scripts/lib/elf-requirements.js';

describe('ELF requirements of a prebuilt binary', () => {
  it('takes the newest GLIBC and GLIBCXX versions among undefined symbols, and the NEEDED libraries', () => {
    const symbols = [
      '0000000000000000      DF *UND*	0000000000000000 (GLIBC_2.2.5) memcpy',
      '0000000000000000      DF *UND*	0000000000000000 (GLIBC_2.34) pthread_create',
      '0000000000000000      DO *UND*	0000000000000000 (GLIBC_2.32) __libc_single_threaded',
      '0000000000000000      DF *UND*	0000000000000000 (GLIBCXX_3.4.29) _ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE7reserveEm',
      '0000000000000000      DF *UND*	0000000000000000 (GLIBCXX_3.4.9) _ZSt9terminatev',
      '00000000000a1b20 g    DF .text	0000000000000042 (GLIBC_2.99) defined_here_not_needed',
    ].join('\n');
    const headers = '  NEEDED               libdl.so.2\n  NEEDED               libstdc++.so.6\n  SONAME  x\n';
    expect(parseElfRequirements(symbols, headers)).toEqual({
      glibc: '2.34',
      glibcxx: '3.4.29',
      needed: ['libdl.so.2', 'libstdc++.so.6'],
    });
  });

  it('compares dotted versions numerically', () => {
    expect(compareVersions('2.34', '2.28')).toBeGreaterThan(0);
    expect(compareVersions('2.2.5', '2.17')).toBeLessThan(0);
    expect(compareVersions('2.28', '2.28.0')).toBe(0);
  });
});
