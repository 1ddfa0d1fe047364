// Finds, in one TypeScript source, every external program it starts — through child_process, the lab's
// wrappers, `ip netns exec` argv arrays, runners such as setsid/setpriv, Playwright's executablePath and
// absolute program paths such as ETCD_BIN = '/usr/bin/etcd' — using TypeScript's own parser (so strings,
// regular expressions and comments cannot fool it). Pure: text in, findings out.
import ts from 'typescript';
import {
  CHILD_PROCESS_IMPORTS, COMPUTED_SITES, DIRECT_LAUNCHERS, FILE_WRAPPERS, FIXED_PROGRAM_WRAPPERS, LAB_ARGV_METHODS,
  LAB_CLASS_FILE, LAB_RECEIVER, NODE_ARGV_BUILDERS, NODE_LAUNCHERS, PROGRAM_WRAPPERS, RUNNERS, type ComputedSite,
} from './known-sites';

export interface ProgramUse {
  /** As written: a name looked up on PATH, or an absolute path. */
  program: string;
  /** file:line of the call (or literal) that names it. */
  site: string;
  /** Windows-only code: never runs on Debian. */
  windowsOnly: boolean;
}

export interface SourceFindings {
  uses: ProgramUse[];
  /** Launches whose program the scanner cannot work out: each is a test failure. */
  notUnderstood: string[];
  /** COMPUTED_SITES keys this file used (so stale entries can be reported). */
  computedKeysUsed: string[];
}

/** Absolute program paths written as literals (ETCD_BIN, KEEPALIVED_BIN, candidate lists like ['/usr/bin/systemctl', '/bin/systemctl']). */
const ABSOLUTE_PROGRAM = /^\/(?:usr\/)?(?:local\/)?s?bin\/[A-Za-z0-9._+-]+$/;

type Resolved =
  | { kind: 'program'; name: string }
  | { kind: 'runtime' }
  | { kind: 'computed'; key: string; entry: ComputedSite }
  | { kind: 'unknown'; text: string };

export function scanSource(file: string, text: string, options: { collectAbsolutePaths: boolean }): SourceFindings {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const findings: SourceFindings = { uses: [], notUnderstood: [], computedKeysUsed: [] };
  const siteOf = (node: ts.Node): string => `${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
  const launcherAliases = promisifiedLaunchers(source);

  const note = (resolved: Resolved, at: ts.Node): void => {
    if (resolved.kind === 'program') findings.uses.push({ program: resolved.name, site: siteOf(at), windowsOnly: false });
    else if (resolved.kind === 'computed') {
      findings.computedKeysUsed.push(resolved.key);
      for (const program of resolved.entry.programs) findings.uses.push({ program, site: siteOf(at), windowsOnly: resolved.entry.windowsOnly === true });
    } else if (resolved.kind === 'unknown') {
      findings.notUnderstood.push(`${siteOf(at)}: cannot tell which program \`${resolved.text}\` runs`);
    }
  };

  /** The program an expression names. */
  const programOf = (expression: ts.Expression): Resolved => {
    const inner = skipWrappers(expression);
    if (ts.isStringLiteral(inner) || ts.isNoSubstitutionTemplateLiteral(inner)) return { kind: 'program', name: inner.text };
    if (inner.getText(source) === 'process.execPath') return { kind: 'runtime' };
    const computed = computedSite(file, expression.getText(source)) ?? computedSite(file, inner.getText(source));
    if (computed !== null) return computed;
    if (ts.isIdentifier(inner)) {
      const initializer = constInitializer(inner);
      if (initializer !== null) return programOf(initializer);
    }
    return { kind: 'unknown', text: expression.getText(source) };
  };

  /** Every program an argv expression runs: its first element, and what runners and `ip netns exec` run after it. */
  const argvPrograms = (expression: ts.Expression, at: ts.Node): void => {
    const inner = skipWrappers(expression);
    const computed = computedSite(file, inner.getText(source).replace(/\((?:.|\n)*\)$/, '(…)'));
    if (computed !== null) return note(computed, at);
    if (ts.isCallExpression(inner) && ts.isIdentifier(inner.expression) && NODE_ARGV_BUILDERS.has(inner.expression.text)) return;
    if (ts.isIdentifier(inner)) {
      const initializer = constInitializer(inner);
      if (initializer !== null) return argvPrograms(initializer, at);
    }
    if (!ts.isArrayLiteralExpression(inner)) return note({ kind: 'unknown', text: expression.getText(source) }, at);
    commandPrograms([...inner.elements], at);
  };

  /** elements = [program, ...args]: notes the program, then follows runners into the program they start. */
  const commandPrograms = (elements: ts.Expression[], at: ts.Node): void => {
    const [first, ...rest] = elements;
    if (first === undefined) return;
    if (ts.isSpreadElement(first)) return argvPrograms(first.expression, at);
    const program = programOf(first);
    note(program, at);
    if (program.kind === 'program') followRunner(baseName(program.name), rest, at);
  };

  /** After `ip` (netns exec <ns>), setsid, setpriv, strace or env: the program they start. */
  const followRunner = (runner: string, args: ts.Expression[], at: ts.Node): void => {
    if (runner === 'ip') {
      const [netns, exec] = args.map(literalText);
      if (netns === 'netns' && exec === 'exec') commandPrograms(args.slice(3), at);
      return;
    }
    const rules = RUNNERS.get(runner);
    if (rules === undefined) return;
    let index = 0;
    while (index < args.length) {
      const value = literalText(args[index]!);
      if (value === null) break;
      if (rules.optionsWithValue.has(value)) index += 2;
      else if (value.startsWith('-') || (rules.assignments === true && value.includes('='))) index += 1;
      else break;
    }
    commandPrograms(args.slice(index), at);
  };

  const visitCall = (call: ts.CallExpression): void => {
    const callee = call.expression;
    const args = call.arguments;
    const argument = (index: number | undefined): ts.Expression | undefined => (index === undefined ? undefined : args[index]);
    let programArg: ts.Expression | undefined;
    let argvArg: ts.Expression | undefined;
    let fixedProgram: string | undefined;
    if (ts.isIdentifier(callee)) {
      const name = callee.text;
      const local = FILE_WRAPPERS.get(`${file}#${name}`);
      if (NODE_LAUNCHERS.has(name)) return;
      if (DIRECT_LAUNCHERS.has(name) || PROGRAM_WRAPPERS.has(name) || launcherAliases.has(name)) [programArg, argvArg] = [args[0], args[1]];
      else if (FIXED_PROGRAM_WRAPPERS.has(name)) [fixedProgram, argvArg] = [FIXED_PROGRAM_WRAPPERS.get(name), args[0]];
      else if (local !== undefined) [programArg, argvArg] = [argument(local.program), argument(local.argv)];
      else return;
    } else if (ts.isPropertyAccessExpression(callee) && LAB_ARGV_METHODS.has(callee.name.text)) {
      const receiver = callee.expression.getText(source);
      if (!LAB_RECEIVER.test(receiver) && !(receiver === 'this' && file === LAB_CLASS_FILE)) return;
      argvArg = args[1];
    } else if (ts.isPropertyAccessExpression(callee) && callee.name.text === 'exec' && callee.expression.getText(source) === 'sudo') {
      // @vscode/sudo-prompt: runs a command line through the OS elevation prompt.
      programArg = args[0];
    } else {
      return;
    }
    if (fixedProgram !== undefined) {
      note({ kind: 'program', name: fixedProgram }, call);
      if (argvArg !== undefined && ts.isArrayLiteralExpression(skipWrappers(argvArg))) followRunner(fixedProgram, [...(skipWrappers(argvArg) as ts.ArrayLiteralExpression).elements], call);
      return;
    }
    if (programArg !== undefined) {
      const program = programOf(programArg);
      note(program, call);
      // The argv that follows a program: only runners (ip netns exec, setsid…) start something further.
      const argv = argvArg === undefined ? null : skipWrappers(argvArg);
      if (program.kind === 'program' && argv !== null && ts.isArrayLiteralExpression(argv)) followRunner(baseName(program.name), [...argv.elements], call);
      return;
    }
    if (argvArg !== undefined) argvPrograms(argvArg, call);
    else note({ kind: 'unknown', text: call.getText(source).slice(0, 80) }, call);
  };

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) checkChildProcessImport(node);
    else if (ts.isCallExpression(node)) visitCall(node);
    else if (ts.isPropertyAssignment(node) && node.name.getText(source) === 'executablePath') note(programOf(node.initializer), node);
    else if (options.collectAbsolutePaths && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && ABSOLUTE_PROGRAM.test(node.text)) {
      findings.uses.push({ program: node.text, site: siteOf(node), windowsOnly: false });
    }
    ts.forEachChild(node, visit);
  };

  const checkChildProcessImport = (node: ts.ImportDeclaration): void => {
    const from = (node.moduleSpecifier as ts.StringLiteral).text;
    if (from !== 'node:child_process' && from !== 'child_process') return;
    const clause = node.importClause;
    if (clause === undefined || clause.isTypeOnly) return;
    const bindings = clause.namedBindings;
    if (clause.name !== undefined || (bindings !== undefined && ts.isNamespaceImport(bindings))) {
      findings.notUnderstood.push(`${siteOf(node)}: import child_process by name (import { execFile } …) so the scanner can follow its calls`);
      return;
    }
    for (const element of bindings?.elements ?? []) {
      const imported = (element.propertyName ?? element.name).text;
      if (element.isTypeOnly || /^[A-Z]/.test(imported)) continue;
      if (!CHILD_PROCESS_IMPORTS.has(imported)) findings.notUnderstood.push(`${siteOf(node)}: child_process.${imported} is not understood (no shell strings: use execFile/spawn with an argument array)`);
      else if (element.propertyName !== undefined) findings.notUnderstood.push(`${siteOf(node)}: child_process.${imported} renamed to ${element.name.text}: use its own name`);
    }
  };

  visit(source);
  return findings;
}

/** `const run = promisify(execFile)`: names that launch like execFile in this file. */
function promisifiedLaunchers(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer !== undefined && ts.isCallExpression(node.initializer)) {
      const call = node.initializer;
      const [first] = call.arguments;
      if (call.expression.getText(source) === 'promisify' && first !== undefined && ts.isIdentifier(first) && DIRECT_LAUNCHERS.has(first.text)) names.add(node.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

function computedSite(file: string, text: string): Resolved | null {
  const key = `${file}#${text}`;
  const entry = COMPUTED_SITES.get(key);
  if (entry === undefined) return null;
  return { kind: 'computed', key, entry };
}

/** `x!`, `(x)`, `x as T`: the expression inside. */
function skipWrappers(expression: ts.Expression): ts.Expression {
  let inner = expression;
  while (ts.isNonNullExpression(inner) || ts.isParenthesizedExpression(inner) || ts.isAsExpression(inner)) inner = inner.expression;
  return inner;
}

function literalText(expression: ts.Expression): string | null {
  return ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression) ? expression.text : null;
}

/** The initializer of the `const` this identifier refers to (nearest enclosing scope that declares it), if any. */
function constInitializer(identifier: ts.Identifier): ts.Expression | null {
  for (let scope: ts.Node | undefined = identifier.parent; scope !== undefined; scope = scope.parent) {
    if (!ts.isBlock(scope) && !ts.isSourceFile(scope)) continue;
    for (const statement of scope.statements) {
      if (!ts.isVariableStatement(statement) || (statement.declarationList.flags & ts.NodeFlags.Const) === 0) continue;
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name) && declaration.name.text === identifier.text && declaration.initializer !== undefined) return declaration.initializer;
      }
    }
  }
  return null;
}

export function baseName(program: string): string {
  return program.slice(program.lastIndexOf('/') + 1);
}
