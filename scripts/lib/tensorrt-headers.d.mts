export function tensorrtHeaderVersion(includeDir: string): string;
