// Runs `electron-builder --linux dir` for the packaging check (packaging.test.ts) in a process of its own:
// electron-builder writes its log straight to stdout, and node:test's runner reads its test files' results
// from their stdout (Node 20 fails the whole file when the two interleave).
//
//   node build/test/package/build-linux-dir.js <request.json>
//
// The request names the project, the output directory, the stand-in Electron and config overrides; the
// result (the unpacked app's directory, the desktop entry and icon set electron-builder computes for the deb,
// the build's duration) is written to <request.json>.result.json.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AfterPackContext, Configuration } from 'electron-builder';

export interface BuildRequest {
  projectDir: string;
  output: string;
  electronDist: string;
  electronVersion: string;
  /** Merged over electron-builder.yml (electron-builder's deepAssign: objects merge, arrays concatenate, null replaces). */
  overrides: Configuration;
}

export interface DesktopIntegration {
  desktopEntry: string;
  icons: Array<{ file: string; size: number }>;
}

export interface BuildResult {
  appOutDir: string;
  desktop: DesktopIntegration | null;
  milliseconds: number;
}

interface LinuxTargetHelperLike {
  readonly icons: Promise<Array<{ file: string; size: number }>>;
  computeDesktopEntry(options: object): Promise<string>;
}

async function main(requestFile: string): Promise<void> {
  const request = JSON.parse(readFileSync(requestFile, 'utf8')) as BuildRequest;
  const builder = createRequire(__filename)('electron-builder') as typeof import('electron-builder');
  // electron-builder's Linux desktop integration, resolved from electron-builder's own dependency.
  const fromBuilder = createRequire(require.resolve('electron-builder'));
  const fromLib = createRequire(fromBuilder.resolve('app-builder-lib/package.json'));
  const { LinuxTargetHelper } = fromLib('./out/targets/LinuxTargetHelper') as {
    LinuxTargetHelper: new (packager: unknown) => LinuxTargetHelperLike;
  };
  let desktop: DesktopIntegration | null = null;
  const config: Configuration = {
    electronDist: request.electronDist,
    electronVersion: request.electronVersion,
    npmRebuild: false,
    directories: { output: request.output },
    publish: null,
    afterPack: async (context: AfterPackContext) => {
      // The options the deb target writes its desktop entry from (FpmTarget: linux, then deb).
      const packager = context.packager as { platformSpecificBuildOptions: object; config: { deb?: object } };
      const helper = new LinuxTargetHelper(context.packager);
      desktop = {
        desktopEntry: await helper.computeDesktopEntry({ ...packager.platformSpecificBuildOptions, ...packager.config.deb }),
        icons: await helper.icons,
      };
    },
    ...request.overrides,
  };
  const started = performance.now();
  await builder.build({
    projectDir: request.projectDir,
    targets: builder.Platform.LINUX.createTarget('dir', builder.Arch.x64),
    config,
    publish: 'never',
  });
  const milliseconds = performance.now() - started;
  const appOutDir = readdirSync(request.output).map((entry) => join(request.output, entry)).find((path) => path.endsWith('-unpacked'));
  if (appOutDir === undefined) throw new Error(`electron-builder made no *-unpacked directory in ${request.output}`);
  const result: BuildResult = { appOutDir, desktop, milliseconds };
  writeFileSync(`${requestFile}.result.json`, JSON.stringify(result));
}

if (require.main === module) {
  const requestFile = process.argv[2];
  if (requestFile === undefined) {
    console.error('usage: node build-linux-dir.js <request.json>');
    process.exit(2);
  }
  main(requestFile).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
