/** The C library version the running process uses (prebuilt binaries need a minimum glibc). */
export function glibcVersion(): string | null {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? null;
}
