// The packaging check: builds the unpacked Linux app (electron-builder `--linux dir`) from the real
// electron-builder.yml and asserts on the layout the installers are made from: what app.asar holds (main,
// preload and renderer bundles, the agent and its CLI, the OUI table, production dependencies only), what
// must live outside it (the native addons in app.asar.unpacked, bin/ipfo.cmd, the systemd unit), the desktop
// entry and icon set electron-builder would put into the deb and the AppImage, and the Windows icon and
// NSIS include's references.
//
// It runs without network access: electronDist points at a stand-in Electron distribution the test creates
// (an `electron` executable, LICENSE, version), so nothing is downloaded; npmRebuild is off because
// rebuilding `cap` for Electron's ABI downloads Electron's headers (the installers keep it on). The
// deb, AppImage and NSIS targets need electron-builder's own downloads (fpm, appimagetool, NSIS) and the
// real Electron zips, which this network does not reach (README: "What was built where").
//
// electron-builder runs in a child process (build-linux-dir.ts), which also computes, in an afterPack hook,
// the desktop entry and icon set electron-builder's deb target would install. A second build leaves
// asarUnpack out (and electron-builder's smartUnpack off) and expects the same check to report the packed
// addons: the check can fail.
//
//   npm run package:check      (= npm run build && node --test build/test/package/packaging.test.js)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import type { Configuration } from 'electron-builder';
import { TASK_NAME } from '../../main/service/windows';
import type { BuildRequest, BuildResult, DesktopIntegration } from './build-linux-dir';

const ROOT = resolve(__dirname, '..', '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const PRODUCT_NAME = 'IP Failover Console';
const EXECUTABLE = 'ip-failover-console';
const INSTALL_PREFIX = `/opt/${PRODUCT_NAME}`;
/** The ${…} macros electron-builder fills in the deb's maintainer scripts (FpmTarget: bash template options). */
const DEB_SCRIPT_MACROS = new Set(['executable', 'sanitizedProductName', 'productFilename']);
/** The whole check must stay cheap enough for every test run. */
const TIME_LIMIT_MS = 120_000;
/** app.asar today is ~8 MiB; devDependencies (typescript, vite, electron-builder…) would add far more. */
const ASAR_SIZE_LIMIT = 25 * 1024 * 1024;

/** Why the check cannot run (electron-builder cannot be found: the only reason it skips), or false. */
function missingElectronBuilder(): string | false {
  try {
    createRequire(__filename).resolve('electron-builder');
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return `electron-builder is not installed (npm ci installs it as a devDependency): ${(error as Error).message.split('\n')[0]}`;
    throw error;
  }
}

// ---------------------------------------------------------------- app.asar, read directly ----

interface AsarFile {
  size: number;
  offset?: string;
  unpacked?: boolean;
  executable?: boolean;
}
interface AsarDirectory {
  files: Record<string, AsarNode>;
}
type AsarNode = AsarDirectory | AsarFile | { link: string };

interface Asar {
  /** Every file, by its path inside the archive ("/"-separated). */
  files: Map<string, AsarFile>;
  read(path: string): Buffer;
}

/**
 * An asar archive: a Chromium pickle holding the header size, a pickle holding the JSON header,
 * then the packed files' bytes (offsets relative to the end of the header).
 */
function openAsar(file: string): Asar {
  const fd = openSync(file, 'r');
  try {
    const sizePickle = Buffer.alloc(8);
    readSync(fd, sizePickle, 0, 8, 0);
    const headerPickleSize = sizePickle.readUInt32LE(4);
    const headerPickle = Buffer.alloc(headerPickleSize);
    readSync(fd, headerPickle, 0, headerPickleSize, 8);
    const jsonLength = headerPickle.readUInt32LE(4);
    const header = JSON.parse(headerPickle.toString('utf8', 8, 8 + jsonLength)) as AsarDirectory;
    const files = new Map<string, AsarFile>();
    const walk = (node: AsarDirectory, prefix: string): void => {
      for (const [name, child] of Object.entries(node.files)) {
        const path = prefix === '' ? name : `${prefix}/${name}`;
        if ('files' in child) walk(child, path);
        else if ('size' in child) files.set(path, child);
      }
    };
    walk(header, '');
    const dataStart = 8 + headerPickleSize;
    return {
      files,
      read(path: string): Buffer {
        const entry = files.get(path);
        if (entry === undefined) throw new Error(`${path} is not in app.asar`);
        if (entry.unpacked === true || entry.offset === undefined) throw new Error(`${path} is unpacked, not inside app.asar`);
        const content = Buffer.alloc(entry.size);
        const again = openSync(file, 'r');
        try {
          readSync(again, content, 0, entry.size, dataStart + Number(entry.offset));
        } finally {
          closeSync(again);
        }
        return content;
      },
    };
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------- the layout check ----

function pngSize(file: string): { width: number; height: number } | null {
  const bytes = readFileSync(file);
  if (bytes.length < 24 || bytes.readUInt32BE(0) !== 0x89504e47 || bytes.toString('ascii', 12, 16) !== 'IHDR') return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

const isElf = (file: string): boolean => readFileSync(file).subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));

/** Everything wrong with the unpacked app in `appOutDir`; empty when the layout is right. */
function layoutProblems(appOutDir: string, desktop: DesktopIntegration | null): string[] {
  const problems: string[] = [];
  const resources = join(appOutDir, 'resources');
  const asarFile = join(resources, 'app.asar');
  if (!existsSync(asarFile)) return [`no resources/app.asar in ${appOutDir}`];
  const asar = openAsar(asarFile);
  const packed = (path: string): boolean => {
    const entry = asar.files.get(path);
    return entry !== undefined && entry.unpacked !== true;
  };

  // The app's own code, packed.
  let manifest: { main?: string } = {};
  try {
    manifest = JSON.parse(asar.read('package.json').toString('utf8')) as { main?: string };
  } catch (error) {
    // Seen only when the tree was rebuilt while electron-builder packed it (sizes and contents disagree).
    problems.push(`app.asar's package.json cannot be read (${(error as Error).message}): was the tree rebuilt during packaging?`);
  }
  if (manifest.main !== PACKAGE.main) problems.push(`app.asar package.json main is ${String(manifest.main)}, expected ${PACKAGE.main}`);
  const required = [
    PACKAGE.main, // build/main/electron/shell.js
    'build/main/electron/main.js',
    'build/preload/index.js',
    'renderer/dist/index.html',
    'build/main/cli/ipfo.js', // the agent and the CLI
    'build/main/agent/agent.js',
    'resources/oui/oui.tsv',
  ];
  for (const path of required) if (!packed(path)) problems.push(`${path} is not packed in app.asar`);
  // The renderer is the console's one UI: no page of the shell's own (the connect page is gone).
  for (const path of asar.files.keys()) if (path.startsWith('main/electron/')) problems.push(`${path}: the shell ships no source page`);
  const rendererScripts = [...asar.files.keys()].filter((path) => /^renderer\/dist\/assets\/.+\.js$/.test(path));
  if (rendererScripts.length === 0) problems.push('app.asar holds no renderer bundle (renderer/dist/assets/*.js)');
  if (!asar.files.has('bin/ipfo')) problems.push('bin/ipfo (the agent entry) is not in app.asar');

  // Production dependencies in, devDependencies and build leftovers out.
  for (const name of ['ws', 'zod', 'etcd3', '@vscode/sudo-prompt', 'cap']) {
    if (!asar.files.has(`node_modules/${name}/package.json`)) problems.push(`production dependency ${name} is missing from app.asar`);
  }
  const forbidden = [...Object.keys(PACKAGE.devDependencies), 'app-builder-lib', 'react', 'react-dom', 'nan'];
  for (const name of forbidden) {
    if (asar.files.has(`node_modules/${name}/package.json`)) problems.push(`${name} (not needed at run time) is in app.asar`);
  }
  const leftovers = [...asar.files.keys()].filter(
    (path) => path.startsWith('build/test/') || path.endsWith('.map') || (!path.startsWith('node_modules/') && /\.[cm]?ts$/.test(path)),
  );
  if (leftovers.length > 0) problems.push(`app.asar holds tests, sources or source maps: ${leftovers.slice(0, 5).join(', ')}`);
  const asarSize = statSync(asarFile).size;
  if (asarSize > ASAR_SIZE_LIMIT) problems.push(`app.asar is ${(asarSize / 2 ** 20).toFixed(1)} MiB, over ${ASAR_SIZE_LIMIT / 2 ** 20} MiB`);

  // Native addons and the Windows launcher: real files next to the archive, the header pointing there.
  const addons = [
    'node_modules/cap/build/Release/cap.node',
    ...readdirSync(join(ROOT, 'main', 'native', 'build', 'Release')).filter((name) => name.endsWith('.node')).map((name) => `main/native/build/Release/${name}`),
  ];
  if (!addons.includes('main/native/build/Release/ipfo_netlink.node')) problems.push('the netlink addon is not built (npm run build:native)');
  const mustBeUnpacked = [...addons, 'bin/ipfo.cmd'];
  for (const path of mustBeUnpacked) {
    const entry = asar.files.get(path);
    const onDisk = join(resources, 'app.asar.unpacked', path);
    if (entry === undefined) problems.push(`${path} is not in the app at all`);
    else if (entry.unpacked !== true) problems.push(`${path} is packed inside app.asar; it must be in app.asar.unpacked`);
    else if (!existsSync(onDisk)) problems.push(`${path} is marked unpacked but app.asar.unpacked/${path} does not exist`);
    else if (statSync(onDisk).size !== entry.size) problems.push(`app.asar.unpacked/${path} has another size than its header entry`);
    else if (path.endsWith('.node') && !isElf(onDisk)) problems.push(`app.asar.unpacked/${path} is not a shared object`);
  }
  const packedAddons = [...asar.files.entries()].filter(([path, entry]) => path.endsWith('.node') && entry.unpacked !== true).map(([path]) => path);
  if (packedAddons.length > 0) problems.push(`native addons packed inside app.asar: ${packedAddons.join(', ')}`);

  // Outside the archive: the executable (renamed from Electron's), the Linux service files, the README.
  if (!existsSync(join(appOutDir, EXECUTABLE))) problems.push(`no ${EXECUTABLE} executable in ${appOutDir}`);
  for (const path of ['linux/ipfo-agent.service', 'linux/after-install.sh', 'README.md']) {
    if (!existsSync(join(resources, path))) problems.push(`resources/${path} is missing`);
  }
  // Every installed path the Linux maintainer scripts and the unit name must exist in the layout (inside
  // app.asar for resources/app.asar/…: Electron reads from the archive).
  const installed = (relative: string): boolean => {
    const inArchive = /^resources\/app\.asar\/(.+)$/.exec(relative)?.[1];
    return inArchive !== undefined ? asar.files.has(inArchive) : existsSync(join(appOutDir, relative));
  };
  for (const name of readdirSync(join(ROOT, 'resources', 'linux'))) {
    const text = readFileSync(join(ROOT, 'resources', 'linux', name), 'utf8');
    for (const match of text.matchAll(/\/opt\/IP Failover Console\/([^"'\s]+)/g)) {
      if (!installed(match[1] ?? '')) problems.push(`resources/linux/${name} names ${match[0]}, which the package does not contain`);
    }
    // electron-builder expands ${name} in the deb's afterInstall/afterRemove scripts and fails on unknown names.
    if (name !== 'after-install.sh' && name !== 'after-remove.sh') continue;
    for (const macro of text.matchAll(/\$\{([a-zA-Z]+)\}/g)) {
      if (!DEB_SCRIPT_MACROS.has(macro[1] ?? '')) problems.push(`resources/linux/${name} uses \${${macro[1]}}, which electron-builder would try to expand (write $${macro[1]})`);
    }
  }
  // The NSIS include runs bin\ipfo.cmd from the install directory; the Windows layout under resources/ is the same.
  const nsh = readFileSync(join(ROOT, 'resources', 'windows', 'installer.nsh'), 'utf8');
  const ipfoCmd = /!define IPFO_CMD "\$INSTDIR\\([^"]+)"/.exec(nsh)?.[1];
  if (ipfoCmd === undefined) problems.push('resources/windows/installer.nsh does not define IPFO_CMD');
  else if (!existsSync(join(appOutDir, ...ipfoCmd.split('\\')))) problems.push(`installer.nsh runs $INSTDIR\\${ipfoCmd}, which the package does not contain`);
  if (!nsh.includes(`!define IPFO_TASK "${TASK_NAME}"`)) problems.push(`installer.nsh must start and stop the boot task ipfo agent install creates (${TASK_NAME})`);
  const cmd = readFileSync(join(ROOT, 'bin', 'ipfo.cmd'), 'utf8');
  if (!cmd.includes(`\\${PRODUCT_NAME}.exe`) || !cmd.includes('ELECTRON_RUN_AS_NODE=1') || !cmd.includes('\\app.asar\\bin\\ipfo')) {
    problems.push(`bin/ipfo.cmd must run "${PRODUCT_NAME}.exe" with ELECTRON_RUN_AS_NODE=1 on app.asar\\bin\\ipfo`);
  }

  // What the deb and the AppImage get: electron-builder's desktop entry and icon set.
  if (desktop === null) problems.push('the afterPack hook did not run: no desktop entry computed');
  else {
    const entry = desktop.desktopEntry;
    for (const line of [`Name=${PRODUCT_NAME}`, `Exec="${INSTALL_PREFIX}/${EXECUTABLE}" %U`, `Icon=${EXECUTABLE}`, 'Categories=Network;', 'Type=Application', 'Keywords=']) {
      if (!entry.split('\n').some((candidate) => candidate.startsWith(line))) problems.push(`desktop entry lacks ${line}`);
    }
    const sizes = desktop.icons.map((icon) => icon.size);
    for (const size of [16, 32, 48, 64, 128, 256, 512]) if (!sizes.includes(size)) problems.push(`icon set lacks ${size}x${size}`);
    for (const icon of desktop.icons) {
      const actual = pngSize(icon.file);
      if (!icon.file.startsWith(join(ROOT, 'resources', 'icons'))) problems.push(`icon ${icon.file} is not ours (resources/icons)`);
      if (actual === null || actual.width !== icon.size || actual.height !== icon.size) problems.push(`icon ${icon.file} is not a ${icon.size}x${icon.size} PNG`);
    }
  }
  return problems;
}

/** The Windows icon electron-builder embeds in the .exe and the installer must hold a 256×256 image. */
function icoSizes(file: string): number[] {
  const bytes = readFileSync(file);
  assert.equal(bytes.readUInt16LE(2), 1, `${file} is not an icon file`);
  return Array.from({ length: bytes.readUInt16LE(4) }, (_, i) => bytes[6 + 16 * i] || 256);
}

// ---------------------------------------------------------------- building ----

const workDir = mkdtempSync(join(tmpdir(), 'ipfo-package-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

/** A stand-in for Electron's Linux distribution: electron-builder copies it and renames `electron`. */
function standInElectron(version: string): string {
  const dir = join(workDir, 'electron-dist');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'electron'), '#!/bin/sh\necho "stand-in Electron: the packaging check only proves the layout" >&2\nexit 1\n', { mode: 0o755 });
  writeFileSync(join(dir, 'LICENSE'), 'Stand-in for Electron\'s LICENSE (MIT).\n');
  writeFileSync(join(dir, 'version'), `${version}\n`);
  return dir;
}

/** Builds the unpacked Linux app in a child process (build-linux-dir.ts says why); its log is shown on failure. */
async function buildLinuxDir(name: string, overrides: Configuration): Promise<BuildResult> {
  const electronVersion = PACKAGE.devDependencies.electron ?? '';
  assert.match(electronVersion, /^\d+\.\d+\.\d+$/, 'electron must be an exact-pinned devDependency');
  const request: BuildRequest = { projectDir: ROOT, output: join(workDir, name), electronDist: standInElectron(electronVersion), electronVersion, overrides };
  const requestFile = join(workDir, `${name}.request.json`);
  writeFileSync(requestFile, JSON.stringify(request));
  const outcome = await new Promise<{ error: Error | null; log: string }>((done) => {
    execFile(process.execPath, [join(__dirname, 'build-linux-dir.js'), requestFile], { timeout: TIME_LIMIT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ error, log: `${stdout}${stderr}` });
    });
  });
  if (outcome.error !== null) throw new Error(`electron-builder --linux dir failed: ${outcome.error.message}\n${outcome.log}`);
  return JSON.parse(readFileSync(`${requestFile}.result.json`, 'utf8')) as BuildResult;
}

function requireBuiltTree(): void {
  const missing = [PACKAGE.main, 'build/preload/index.js', 'renderer/dist/index.html', 'main/native/build/Release/ipfo_netlink.node', 'node_modules/cap/build/Release/cap.node'].filter(
    (path) => !existsSync(join(ROOT, path)),
  );
  assert.deepEqual(missing, [], `the tree is not built (run npm run build first): missing ${missing.join(', ')}`);
}

const skip = missingElectronBuilder();
if (skip !== false) console.error(`packaging check skipped: ${skip}`);

test('the unpacked Linux app has the layout the installers are made from', { skip, timeout: TIME_LIMIT_MS }, async (t) => {
  requireBuiltTree();
  const built = await buildLinuxDir('real', {});
  const asarSize = statSync(join(built.appOutDir, 'resources', 'app.asar')).size;
  t.diagnostic(`electron-builder --linux dir took ${(built.milliseconds / 1000).toFixed(1)} s; app.asar is ${(asarSize / 2 ** 20).toFixed(1)} MiB`);
  assert.deepEqual(layoutProblems(built.appOutDir, built.desktop), []);
  assert.ok(built.milliseconds < TIME_LIMIT_MS, `packaging took ${Math.round(built.milliseconds / 1000)} s`);
});

test('the Windows icon holds every size from 16 to 256', () => {
  assert.deepEqual(icoSizes(join(ROOT, 'resources', 'icons', 'icon.ico')).sort((a, b) => a - b), [16, 24, 32, 48, 64, 128, 256]);
});

test('the check fails when the native addons end up inside app.asar', { skip, timeout: TIME_LIMIT_MS }, async () => {
  requireBuiltTree();
  // asarUnpack removed, and electron-builder's own safety net (smartUnpack: unpack any package holding a .node) off.
  const built = await buildLinuxDir('packed-addons', { asarUnpack: null, asar: { smartUnpack: false } });
  const problems = layoutProblems(built.appOutDir, built.desktop);
  for (const expected of ['node_modules/cap/build/Release/cap.node is packed', 'main/native/build/Release/ipfo_netlink.node is packed', 'bin/ipfo.cmd is packed']) {
    assert.ok(problems.some((problem) => problem.startsWith(expected)), `expected "${expected}…" among:\n${problems.join('\n')}`);
  }
});
