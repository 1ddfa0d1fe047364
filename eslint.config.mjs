// One lint setup for the whole tree. Layering rules keep the privileged engine free of Electron, the
// renderer free of the engine, and the pure code (planners, parsers, the contract shared with the
// console) free of the host: it must run in a browser and in a unit test without a network.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const electronOnlyInShell = { name: 'electron', message: 'Only main/electron/ (the thin Electron shell) may import electron.' };
const rendererNoElectron = { name: 'electron', message: 'The renderer is sandboxed: talk to window.ipfo only.' };
const rendererNoMain = { group: ['**/main/**', '../main/*', '../../main/*'], message: 'renderer/ must not import main/ (use the shared contract in preload/).' };

const PURE = 'Pure code (the contract, the planners, the watch, the console model)';
const noNode = [
  { regex: '^node:', message: `${PURE} imports no Node module: it runs in the browser and in unit tests as is.` },
  { regex: `^(?:${builtinModules.filter((name) => !name.startsWith('_')).join('|')})$`, message: `${PURE} imports no Node module: it runs in the browser and in unit tests as is.` },
];
const noStore = { regex: '(^|/)main/store/|^\\.\\./store/', message: `${PURE} does not import the store: it gets the values it decides on as arguments.` };
const noHostEffects = {
  regex: '(^|/)net/(registrar|netlink|pcap|interfaces)$',
  message: `${PURE} does not import the host's effects (addresses, netlink, capture, /sys): pure checks such as net/ifname.ts are fine.`,
};
const contractNoMain = { regex: '^(\\.\\./)+main/', message: 'preload/contract/ is compiled into the sandboxed console too: it imports nothing from main/.' };
const agentThroughHost = {
  regex: '(^|/)net/(registrar|netlink|pcap|interfaces|frame-tap)$',
  allowTypeImports: true,
  message: 'The agent reaches the machine only through main/host/ (the Host seam): it runs on Linux, Windows and the fake LAN of the unit tests.',
};
const installNoCli = { regex: '(^|/)cli(/|$)', message: 'Install code (main/service/) does not import the CLI: the CLI imports it.' };

const noShellStrings = {
  selector: "CallExpression[callee.property.name='exec'][callee.object.name='child_process']",
  message: 'No shell strings: use execFile/spawn with an argument array.',
};
const ipcMainInOnePlace = {
  selector: "Identifier[name='ipcMain']",
  message: 'Only main/electron/ipc-main.ts touches ipcMain: every handler goes through its sender check and the contract.',
};

const restrictImports = (paths, patterns = []) => ({ 'no-restricted-imports': ['error', { paths, patterns }] });

export default tseslint.config(
  { ignores: ['build/**', 'dist/**', 'node_modules/**', 'renderer/dist/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-restricted-syntax': ['error', noShellStrings, ipcMainInOnePlace],
    },
  },
  {
    files: ['main/electron/ipc-main.ts'],
    rules: { 'no-restricted-syntax': ['error', noShellStrings] },
  },
  {
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**'],
    rules: restrictImports([electronOnlyInShell]),
  },
  {
    files: ['test/**/*.ts'],
    rules: restrictImports([electronOnlyInShell]),
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: restrictImports([rendererNoElectron], [rendererNoMain]),
  },
  {
    files: ['main/arp/**/*.ts', 'main/nd/**/*.ts', 'main/watch/**/*.ts', 'main/cluster/**/*.ts'],
    rules: restrictImports([electronOnlyInShell], [...noNode, noStore, noHostEffects]),
  },
  {
    files: ['preload/contract/**/*.ts'],
    rules: restrictImports(
      [{ name: 'electron', message: 'preload/contract/ is compiled into the sandboxed console too: no electron.' }],
      [...noNode, contractNoMain],
    ),
  },
  {
    files: ['renderer/src/model/**/*.ts'],
    rules: restrictImports([rendererNoElectron], [rendererNoMain, ...noNode]),
  },
  {
    files: ['main/agent/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [agentThroughHost] }] },
  },
  {
    files: ['main/service/**/*.ts'],
    rules: restrictImports([electronOnlyInShell], [installNoCli]),
  },
);
