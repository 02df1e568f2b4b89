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

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundle({ main: 'src/main.ts', 'deploy-commands': 'src/deploy-commands.ts' });
}
