// The systemd units in deploy/systemd/ (README: Run it under systemd): systemd itself finds no
// fault in them and scores their sandbox "OK" (systemd-analyze verify and security, when installed;
// CI installs it), and they start what the build makes and the README names, with the restart
// rules the processes' exit codes rely on.

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { ENTRIES } from '../../build.mjs';
import { EXIT_CONFIG } from '../../src/lifecycle';

const DIR = 'deploy/systemd';
const files = readdirSync(DIR).sort();

/** A unit's settings: section → key → every value given (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) sections.set(header[1]!, (section = new Map()));
    else {
      const at = line.indexOf('=');
      const key = line.slice(0, at);
      section!.set(key, [...(section!.get(key) ?? []), line.slice(at + 1)]);
    }
  }
  return sections;
}

const unit = (name: string) => parseUnit(readFileSync(`${DIR}/${name}`, 'utf8'));
const setting = (name: string, section: string, key: string) => unit(name).get(section)?.get(key) ?? [];
const words = (values: string[]) => values.flatMap((v) => v.split(/\s+/));

const analyze = await promisify(execFile)('systemd-analyze', ['--version']).then(() => true, () => false);
if (!analyze) console.warn('[gatepass tests] systemd-analyze not found: the units are checked without it (apt-get install systemd to verify them)');

describe('the systemd units', () => {
  test('are the proxy, the shard template and the target', () => {
    expect(files).toEqual(['gatepass-proxy.service', 'gatepass.target', 'gatepass@.service']);
  });

  test.skipIf(!analyze)('systemd-analyze verify finds nothing to say about them, and security scores them at most 2 of 10', async () => {
    // verify checks that ExecStart's program exists: this machine's node, wherever it is installed.
    const dir = mkdtempSync(join(tmpdir(), 'gatepass-units-'));
    try {
      for (const file of files) writeFileSync(join(dir, file), readFileSync(`${DIR}/${file}`, 'utf8').replaceAll('/usr/bin/node', process.execPath));
      const { stdout, stderr } = await promisify(execFile)('systemd-analyze', ['verify', '--man=no', ...files.map((f) => join(dir, f))]);
      expect(stderr).toBe('');
      expect(stdout).toBe('');
      // systemd's own score of what a compromised service could do, 0 to 10 (these score 1.4): at
      // most 2 (--threshold counts in tenths), or the command fails.
      const services = files.filter((f) => f.endsWith('.service')).map((f) => join(dir, f));
      const security = await promisify(execFile)('systemd-analyze', ['security', '--offline=yes', '--no-pager', '--threshold=20', ...services]);
      expect(security.stdout.match(/Overall exposure level for .+: \d+\.\d+ OK/g)).toHaveLength(services.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('each service runs a bundle the build makes, with npm start\'s memory flags for a shard', () => {
    const start = JSON.parse(readFileSync('package.json', 'utf8')).scripts.start as string;
    const nodeFlags = start.split(' ').filter((w) => w.startsWith('--'));
    for (const [file, entry] of [['gatepass@.service', 'shard'], ['gatepass-proxy.service', 'proxy']] as const) {
      const [execStart, ...more] = setting(file, 'Service', 'ExecStart');
      expect(more).toEqual([]);
      const argv = execStart!.split(/\s+/);
      expect(argv[0]).toBe('/usr/bin/node');
      expect(argv.at(-1)).toBe(`dist/${entry}.mjs`);
      expect(Object.keys(ENTRIES)).toContain(entry);
      if (entry === 'shard') expect(argv.slice(1, -1)).toEqual(nodeFlags);
    }
  });

  test('the instance is the shard; a dead process is restarted, one with a configuration error (exit 78) is not', () => {
    expect(words(setting('gatepass@.service', 'Service', 'Environment'))).toContain('SHARD_ID=%i');
    for (const file of ['gatepass@.service', 'gatepass-proxy.service']) {
      expect(setting(file, 'Service', 'Restart')).toEqual(['always']);
      expect(setting(file, 'Service', 'RestartPreventExitStatus')).toEqual([String(EXIT_CONFIG)]);
      expect(setting(file, 'Service', 'NoNewPrivileges')).toEqual(['true']);
      expect(setting(file, 'Service', 'ProtectSystem')).toEqual(['strict']);
      // V8 writes the code it compiles into memory it then runs.
      expect(setting(file, 'Service', 'MemoryDenyWriteExecute')).toEqual([]);
      expect(setting(file, 'Unit', 'PartOf')).toEqual(['gatepass.target']);
      expect(setting(file, 'Install', 'WantedBy')).toEqual(['gatepass.target']);
    }
  });

  test('the proxy comes first: a shard requires it and starts after it; the target starts it', () => {
    expect(words(setting('gatepass@.service', 'Unit', 'Requires'))).toContain('gatepass-proxy.service');
    expect(words(setting('gatepass@.service', 'Unit', 'After'))).toContain('gatepass-proxy.service');
    expect(words(setting('gatepass.target', 'Unit', 'Wants'))).toContain('gatepass-proxy.service');
    expect(setting('gatepass.target', 'Install', 'WantedBy')).toEqual(['multi-user.target']);
  });

  test('the README installs these files and names what they run', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const named of [...files.map((file) => `${DIR}/${file}`), 'dist/shard.mjs', 'dist/proxy.mjs']) expect(readme.includes(named), `README names ${named}`).toBe(true);
  });
});
