// What `npm start` does, from four facts. Pure: no I/O.
//
// The desktop console when Electron can run; otherwise one line saying why, then the web console:
// the agent's URL if one answers already, else a local agent started here (single-host file store),
// which needs root.
export interface StartFacts {
  /** The Electron binary is installed (node_modules/electron/dist, or ELECTRON_OVERRIDE_DIST_PATH). */
  electronInstalled: boolean;
  /** A display to open a window on (DISPLAY or WAYLAND_DISPLAY on Linux). */
  display: boolean;
  /** An agent answers its health check on the local API port. */
  agentAnswers: boolean;
  isRoot: boolean;
}

export type StartDecision =
  | { kind: 'electron' }
  /** Print the running agent's console URL (with its token when readable). */
  | { kind: 'show-web-console'; why: string }
  /** Start a single-host agent serving the web console, and print its URL. */
  | { kind: 'start-agent'; why: string }
  /** Nothing runs and this user cannot start the agent. */
  | { kind: 'need-root'; why: string; exitCode: 4 };

export const ELECTRON_MISSING_REASON =
  "Electron binary not installed (npm's electron package downloads it on first run, which needs github.com)";
export const ELECTRON_AS_ROOT_REASON =
  "Electron does not run as root (Chromium's sandbox refuses it and the console keeps its sandbox); run npm start as your own user for the desktop console";
export const NO_DISPLAY_REASON = 'no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set)';

/** Why the desktop console cannot open, or null when it can. */
export function electronBlocker(facts: Pick<StartFacts, 'electronInstalled' | 'display' | 'isRoot'>): string | null {
  if (!facts.electronInstalled) return ELECTRON_MISSING_REASON;
  if (facts.isRoot) return ELECTRON_AS_ROOT_REASON;
  if (!facts.display) return NO_DISPLAY_REASON;
  return null;
}

export function decideStart(facts: StartFacts): StartDecision {
  const blocker = electronBlocker(facts);
  if (blocker === null) return { kind: 'electron' };
  const why = `${blocker}; serving the web console instead`;
  if (facts.agentAnswers) return { kind: 'show-web-console', why };
  if (facts.isRoot) return { kind: 'start-agent', why };
  return { kind: 'need-root', why, exitCode: 4 };
}

/** Whether a window can be shown: Linux (and other X11/Wayland systems) need a display server. */
export function hasDisplay(platform: NodeJS.Platform, env: Readonly<Record<string, string | undefined>>): boolean {
  if (platform === 'win32' || platform === 'darwin') return true;
  return Boolean(env.DISPLAY) || Boolean(env.WAYLAND_DISPLAY);
}
