// `npm run build` (run before `npm start`): bundles the bot into dist/ so production runs plain
// JavaScript; under a TypeScript loader the process carries a second module thread and ~45 MB more.
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Bundles each entry (name → source) into dist/<name>.mjs; node_modules stay external. */
export async function bundle(entryPoints) {
  await build({
    entryPoints,
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}

/**
 * npm start's process; a shard's process and the REST proxy, for a service manager to run each
 * (deploy/systemd/); the command registration.
 */
export const ENTRIES = { main: 'src/main.ts', shard: 'src/shard.ts', proxy: 'src/proxy.ts', 'deploy-commands': 'src/deploy-commands.ts' };

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundle(ENTRIES);
}
