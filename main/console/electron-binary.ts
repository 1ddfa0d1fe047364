// Is the Electron binary installed? Answered without `require('electron')`: the electron package's
// index.js DOWNLOADS the binary (from github.com) when it is missing, and that must never happen
// as a side effect of asking.
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type ElectronBinary = { installed: true; path: string } | { installed: false; reason: string };

/** Where the electron package is, or null when it is not installed (a production install). */
export function electronPackageDir(): string | null {
  try {
    return dirname(require.resolve('electron/package.json'));
  } catch {
    return null;
  }
}

/** The binary the electron package would run, if it is there and executable. */
export function findElectronBinary(
  packageDir: string | null = electronPackageDir(),
  env: Readonly<Record<string, string | undefined>> = process.env,
): ElectronBinary {
  if (packageDir === null) return { installed: false, reason: 'the electron package is not installed (npm ci installs it with the dev dependencies)' };
  let relative: string | null;
  try {
    relative = readFileSync(join(packageDir, 'path.txt'), 'utf8').trim();
  } catch {
    relative = null;
  }
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  const candidate = override ? join(override, relative ?? 'electron') : relative === null ? null : join(packageDir, 'dist', relative);
  if (candidate === null) return { installed: false, reason: 'node_modules/electron has no binary (path.txt and dist/ are missing)' };
  try {
    accessSync(candidate, constants.X_OK);
  } catch {
    return { installed: false, reason: `${candidate} is missing or not executable` };
  }
  return { installed: true, path: candidate };
}
