export function bundle(entryPoints: Record<string, string>): Promise<void>;
export const ENTRIES: Record<string, string>;
