export function bundle(entryPoints: Record<string, string>): Promise<void>;
