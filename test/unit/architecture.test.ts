// Architecture rules, checked on the source as the TypeScript compiler parses it (no build, no stack).
// An import is a RUNTIME import when it loads code: `import … from`, `import '…'`, `export … from`,
// `import x = require()`, `require('…')`, `require.resolve('…')` (the worker bundles the workflows
// it names) and `import('…')` with a literal path. Not runtime: `import type`, `export type`, imports
// and re-exports whose every name is `type X`, and `import('…').T` in a type (the compiler erases them).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// ── The rules ────────────────────────────────────────────────────────────────────────────────────
// A target ending in `/` is a folder of this repository, one ending in `.ts` a file of it, anything
// else an npm package with its subpaths (`@temporalio/common` also allows `@temporalio/common/lib/…`).

interface ImportRule {
  rule: string;
  /** The files the rule is about. */
  files: string;
  /** `runtime`: only imports that load code; `all`: type-only imports too. */
  checks: 'runtime' | 'all';
  /** Allow-list: nothing else may be imported. */
  onlyFrom?: string[];
  /** Deny-list. */
  never?: string[];
}

/**
 * | files       | checks  | rule                                                                        |
 * |-------------|---------|-----------------------------------------------------------------------------|
 * | workflows/  | runtime | only @temporalio/workflow, @temporalio/common and workflows/ (determinism)   |
 * | workflows/  | runtime | never temporal/ or domain/                                                  |
 * | domain/     | all     | never models/, api/, activities/, worker/                                   |
 * | workflows/, temporal/, domain/ | runtime | no import cycle between these folders              |
 * | api/main.ts, worker/main.ts, stack/start.ts | runtime, transitively | never reach models/training/ |
 */
const IMPORT_RULES: ImportRule[] = [
  {
    rule: 'workflow code is deterministic',
    files: 'workflows/',
    checks: 'runtime',
    onlyFrom: ['@temporalio/workflow', '@temporalio/common', 'workflows/'],
  },
  { rule: 'workflows do not load temporal/ or domain/', files: 'workflows/', checks: 'runtime', never: ['temporal/', 'domain/'] },
  {
    rule: 'domain knows no model, API, activity or worker',
    files: 'domain/',
    checks: 'all',
    never: ['models/', 'api/', 'activities/', 'worker/'],
  },
];
/** No cycle of runtime imports between these folders. */
const ACYCLIC_FOLDERS = ['workflows/', 'temporal/', 'domain/'];
/** What the service runs … */
const ENTRY_POINTS = ['api/main.ts', 'worker/main.ts', 'stack/start.ts'];
/** … never loads this, directly or through any chain of runtime imports. */
const OFFLINE = ['models/training/'];

// ── Reading the source ───────────────────────────────────────────────────────────────────────────

const ROOT = path.resolve(__dirname, '..', '..');
const CODE = ['.ts', '.tsx', '.cts', '.mts', '.js', '.cjs', '.mjs'];
const isCode = (file: string) => CODE.some((ext) => file.endsWith(ext));

interface Import {
  file: string;
  line: number;
  specifier: string;
  runtime: boolean;
  /** A path of this repository (relative specifiers), else undefined (a package). */
  target?: string;
  /** Whether `target` is a file of the tree. */
  resolved: boolean;
}

/** A set of files (repository-relative paths → text; '' for files that are not code) and their imports. */
class Sources {
  private readonly parsed = new Map<string, Import[]>();
  constructor(readonly files: Map<string, string>) {}

  static fromObject(files: Record<string, string>): Sources {
    return new Sources(new Map(Object.entries(files)));
  }

  /** Every file under `root`, without dot-folders, node_modules and dist. */
  static fromDisk(root: string): Sources {
    const files = new Map<string, string>();
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
        if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'dist') continue;
        const rel = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) walk(rel);
        else if (entry.isFile()) files.set(rel, isCode(rel) ? fs.readFileSync(path.join(root, rel), 'utf8') : '');
      }
    };
    walk('');
    return new Sources(files);
  }

  codeFiles(): string[] {
    return [...this.files.keys()].filter(isCode).sort();
  }

  importsOf(file: string): Import[] {
    let imports = this.parsed.get(file);
    if (!imports) this.parsed.set(file, (imports = isCode(file) ? this.parse(file) : []));
    return imports;
  }

  private parse(file: string): Import[] {
    const source = ts.createSourceFile(file, this.files.get(file) ?? '', ts.ScriptTarget.Latest, true);
    const imports: Import[] = [];
    const add = (node: ts.Node, specifier: ts.Node | undefined, runtime: boolean) => {
      if (!specifier || !ts.isStringLiteralLike(specifier)) return; // require(variable): nothing to follow
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      imports.push({ file, line, specifier: specifier.text, runtime, ...this.resolve(file, specifier.text) });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, !typeOnlyImport(node.importClause));
      else if (ts.isExportDeclaration(node)) add(node, node.moduleSpecifier, !typeOnlyExport(node));
      else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
        add(node, node.moduleReference.expression, !node.isTypeOnly);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal, false);
      else if (ts.isCallExpression(node) && loadsModule(node.expression)) add(node, node.arguments[0], true);
      ts.forEachChild(node, visit);
    };
    visit(source);
    return imports;
  }

  /** Node's resolution for relative specifiers: the file, `.ts` & co., `/index.ts`, `.js` written for `.ts`. */
  private resolve(from: string, specifier: string): Pick<Import, 'target' | 'resolved'> {
    if (!specifier.startsWith('.')) return { resolved: false };
    const base = path.posix.join(path.posix.dirname(from), specifier).replace(/\/$/, '');
    const candidates = [base, ...CODE.map((ext) => base + ext), ...CODE.map((ext) => `${base}/index${ext}`), base.replace(/\.([cm]?)js$/, '.$1ts')];
    const hit = candidates.find((c) => this.files.has(c));
    return { target: hit ?? base, resolved: hit !== undefined };
  }
}

function typeOnlyImport(clause: ts.ImportClause | undefined): boolean {
  if (!clause) return false; // import 'x': loaded for its side effects
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

function typeOnlyExport(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const named = node.exportClause;
  return !!named && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

/** `require(…)`, `require.resolve(…)`, `import(…)`. */
function loadsModule(callee: ts.Expression): boolean {
  if (callee.kind === ts.SyntaxKind.ImportKeyword) return true;
  if (ts.isIdentifier(callee)) return callee.text === 'require';
  return ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'require' && callee.name.text === 'resolve';
}

// ── The checks: each returns one message per violation, naming the file, line and import ─────────

const describeImport = (i: Import) =>
  `${i.file}:${i.line} imports '${i.specifier}'${i.target && i.target !== i.specifier ? ` (${i.target})` : ''}${i.runtime ? ' at run time' : ' as a type'}`;

const isRepoPath = (target: string) => target.endsWith('/') || isCode(target);

function matches(target: string, i: Import): boolean {
  if (isRepoPath(target)) return i.target !== undefined && (target.endsWith('/') ? i.target.startsWith(target) : i.target === target);
  return i.target === undefined && (i.specifier === target || i.specifier.startsWith(`${target}/`));
}

function checkImportRules(sources: Sources, rules: ImportRule[]): string[] {
  const violations: string[] = [];
  for (const rule of rules) {
    const files = sources.codeFiles().filter((f) => f.startsWith(rule.files));
    if (files.length === 0) violations.push(`no file under ${rule.files}: "${rule.rule}" checks nothing`);
    for (const i of files.flatMap((f) => sources.importsOf(f))) {
      if (rule.checks === 'runtime' && !i.runtime) continue;
      if (rule.onlyFrom && !rule.onlyFrom.some((t) => matches(t, i))) {
        violations.push(`${describeImport(i)}: ${rule.rule} (may import only ${rule.onlyFrom.join(', ')})`);
      }
      const denied = rule.never?.find((t) => matches(t, i));
      if (denied) violations.push(`${describeImport(i)}: ${rule.rule} (must not import ${denied})`);
    }
  }
  return violations;
}

/** Folders that import each other at run time, directly or round about, with the imports that do it. */
function checkAcyclic(sources: Sources, folders: string[]): string[] {
  const folderOf = (file: string | undefined) => folders.find((f) => file?.startsWith(f));
  const edges = new Map(folders.map((f) => [f, new Map<string, Import[]>()]));
  for (const file of sources.codeFiles()) {
    const from = folderOf(file);
    if (!from) continue;
    for (const i of sources.importsOf(file)) {
      const to = folderOf(i.target);
      if (!i.runtime || !to || to === from) continue;
      const out = edges.get(from)!;
      out.set(to, [...(out.get(to) ?? []), i]);
    }
  }
  const reach = (start: string) => {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      for (const next of edges.get(stack.pop()!)!.keys()) {
        if (seen.has(next)) continue;
        seen.add(next);
        stack.push(next);
      }
    }
    return seen;
  };
  const reached = new Map(folders.map((f) => [f, reach(f)]));
  const violations: string[] = [];
  const reported = new Set<string>();
  for (const folder of folders) {
    if (reported.has(folder) || !reached.get(folder)!.has(folder)) continue;
    const cycle = folders.filter((f) => reached.get(folder)!.has(f) && reached.get(f)!.has(folder));
    cycle.forEach((f) => reported.add(f));
    const imports = cycle.flatMap((from) => cycle.flatMap((to) => (edges.get(from)!.get(to) ?? []).map((i) => `\n    ${from} → ${to}: ${describeImport(i)}`)));
    violations.push(`import cycle between ${cycle.join(', ')}:${imports.join('')}`);
  }
  return violations;
}

/** Files under `forbidden` reached from `entries` through runtime imports, with the chain that loads them. */
function checkNeverLoaded(sources: Sources, entries: string[], forbidden: string[]): string[] {
  const violations: string[] = [];
  const via = new Map<string, Import | undefined>();
  const queue: string[] = [];
  for (const entry of entries) {
    if (!sources.files.has(entry)) violations.push(`entry point ${entry} does not exist`);
    else {
      via.set(entry, undefined);
      queue.push(entry);
    }
  }
  const chain = (file: string): string => {
    const i = via.get(file);
    return i ? `${chain(i.file)} → ${file}` : file;
  };
  while (queue.length) {
    const file = queue.shift()!;
    for (const i of sources.importsOf(file)) {
      if (!i.runtime || i.target === undefined) continue;
      if (!i.resolved) violations.push(`${describeImport(i)}, which does not resolve to a file (loaded from ${chain(file)})`);
      else if (!via.has(i.target)) {
        via.set(i.target, i);
        queue.push(i.target);
        if (forbidden.some((f) => i.target!.startsWith(f))) violations.push(`${describeImport(i)}: offline code loaded by ${chain(i.target)}`);
      }
    }
  }
  return violations;
}

function assertNone(violations: string[]) {
  if (violations.length) assert.fail(`${violations.length} violation(s):\n  ${violations.join('\n  ')}`);
}

/** Expects exactly one violation, naming the file and the import. */
function assertOne(violations: string[], file: string, specifier: string) {
  assert.equal(violations.length, 1, violations.join('\n'));
  assert.ok(violations[0].includes(`${file}:`) && violations[0].includes(`'${specifier}'`), violations[0]);
}

// ── Tests ────────────────────────────────────────────────────────────────────────────────────────

describe('architecture', () => {
  describe('this repository', () => {
    const repo = Sources.fromDisk(ROOT);
    for (const rule of IMPORT_RULES) it(`${rule.files}: ${rule.rule}`, () => assertNone(checkImportRules(repo, [rule])));
    it(`no runtime import cycle between ${ACYCLIC_FOLDERS.join(', ')}`, () => assertNone(checkAcyclic(repo, ACYCLIC_FOLDERS)));
    it(`${ENTRY_POINTS.join(', ')} never load ${OFFLINE.join(', ')}`, () => assertNone(checkNeverLoaded(repo, ENTRY_POINTS, OFFLINE)));
  });

  describe('reading imports', () => {
    it('tells runtime imports from type-only ones', () => {
      const file = 'a/x.ts';
      const sources = Sources.fromObject({
        [file]: [
          "import type { A } from 't1';",
          "import { type B, type C } from 't2';",
          "export type { D } from 't3';",
          "export { type E } from 't4';",
          "let f: import('t5').F;",
          "import type G = require('t6');",
          "import { H, type I } from 'r1';",
          "import J from 'r2';",
          "import * as K from 'r3';",
          "import 'r4';",
          "export * from 'r5';",
          "export { L } from 'r6';",
          "import M = require('r7');",
          "const n = require('r8');",
          "const o = () => import('r9');",
          "const p = require.resolve('r10');",
          'const q = require(`r11`);',
          'const r = require(n);',
        ].join('\n'),
      });
      const kinds = Object.fromEntries(sources.importsOf(file).map((i) => [i.specifier, i.runtime ? 'runtime' : 'type']));
      const expected = Object.fromEntries([
        ...[1, 2, 3, 4, 5, 6].map((n) => [`t${n}`, 'type']),
        ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) => [`r${n}`, 'runtime']),
      ]);
      assert.deepEqual(kinds, expected);
    });

    it('resolves relative paths to .ts files, folders to index.ts, and .js to .ts', () => {
      const sources = Sources.fromObject({
        'a/x.ts': "import './y'; import '../b'; import './z.js'; import '../data.json'; import './missing';",
        'a/y.ts': '',
        'a/z.ts': '',
        'b/index.ts': '',
        'data.json': '',
      });
      assert.deepEqual(
        sources.importsOf('a/x.ts').map((i) => [i.target, i.resolved]),
        [['a/y.ts', true], ['b/index.ts', true], ['a/z.ts', true], ['data.json', true], ['a/missing', false]],
      );
    });
  });

  describe('each rule can fail', () => {
    const [deterministic, workflowsApart, domainApart] = IMPORT_RULES;
    const check = (rule: ImportRule, files: Record<string, string>) => checkImportRules(Sources.fromObject(files), [rule]);

    it('workflow code: Node, the ORM, config and other folders are refused; Temporal\'s workflow packages and types pass', () => {
      const allowed = [
        "import { proxyActivities } from '@temporalio/workflow';",
        "import { defineSearchAttributeKey } from '@temporalio/common';",
        "import { x } from '@temporalio/common/lib/search-attributes';",
        "import { w } from './other';",
        "import type { A } from '../activities/a';",
        "import { type S } from '../domain/s';",
      ].join('\n');
      assertNone(check(deterministic, { 'workflows/w.ts': allowed, 'workflows/other.ts': '' }));
      for (const specifier of ['node:fs', 'fs', '@mikro-orm/core', '@temporalio/client', '../domain/d', '../db/sql', '../entities', '../activities/a', '../temporal/t', '../models/serving/m', '../config']) {
        assertOne(check(deterministic, { 'workflows/w.ts': `import { x } from '${specifier}';` }), 'workflows/w.ts', specifier);
      }
      assertOne(check(deterministic, { 'workflows/sub/w.ts': "const fs = require('node:fs');" }), 'workflows/sub/w.ts', 'node:fs');
    });

    it('workflows → temporal/ and domain/ at run time are refused', () => {
      assertOne(check(workflowsApart, { 'workflows/w.ts': "import { IS_ANOMALY } from '../temporal/search-attributes';" }), 'workflows/w.ts', '../temporal/search-attributes');
      assertOne(check(workflowsApart, { 'workflows/w.ts': "export { summary } from '../domain/sessions/analysis';" }), 'workflows/w.ts', '../domain/sessions/analysis');
      assertNone(check(workflowsApart, { 'workflows/w.ts': "import type { Summary } from '../domain/sessions/analysis';" }));
    });

    it('domain → models/, api/, activities/, worker/ are refused, even as types', () => {
      for (const specifier of ['../../models/serving/onnx-detector', '../../api/app', '../../activities/sessions', '../../worker/worker']) {
        assertOne(check(domainApart, { 'domain/x/d.ts': `import type { T } from '${specifier}';` }), 'domain/x/d.ts', specifier);
      }
      assertOne(check(domainApart, { 'domain/d.ts': "let m: import('../models/serving/registry').Card;" }), 'domain/d.ts', '../models/serving/registry');
      assertNone(check(domainApart, { 'domain/d.ts': "import { sql } from '../db/sql'; import type { EntityManager } from '@mikro-orm/postgresql';" }));
    });

    it('a rule whose folder holds no file says so instead of passing', () => {
      assert.match(check(deterministic, { 'flows/w.ts': "import fs from 'node:fs';" }).join(), /no file under workflows\//);
    });

    it('a runtime cycle between the folders is refused, naming every import on it; type imports make no cycle', () => {
      const files = {
        'workflows/session.ts': "import { IS_ANOMALY } from '../temporal/search-attributes';",
        'temporal/sessions.ts': "import { writeUpdate } from '../workflows/session';\nimport type { AnalysisSummary } from '../domain/sessions/analysis';",
        'temporal/search-attributes.ts': '',
        'domain/sessions/analysis.ts': "import { startSession } from '../../temporal/sessions';",
      };
      const violations = checkAcyclic(Sources.fromObject(files), ACYCLIC_FOLDERS);
      assert.equal(violations.length, 1, violations.join('\n'));
      assert.match(violations[0], /between workflows\/, temporal\//);
      assert.ok(violations[0].includes("workflows/session.ts:1 imports '../temporal/search-attributes'"), violations[0]);
      assert.ok(violations[0].includes("temporal/sessions.ts:1 imports '../workflows/session'"), violations[0]);
      assert.ok(!violations[0].includes('domain/'), 'domain/ is not on the cycle: temporal/ imports it as a type only');

      const threeWay = { ...files, 'workflows/session.ts': "import '../domain/sessions/analysis';", 'temporal/sessions.ts': "import '../workflows/session';" };
      assert.match(checkAcyclic(Sources.fromObject(threeWay), ACYCLIC_FOLDERS).join(), /between workflows\/, temporal\/, domain\//);
      assertNone(checkAcyclic(Sources.fromObject({ ...files, 'workflows/session.ts': "import type { A } from '../temporal/search-attributes';" }), ACYCLIC_FOLDERS));
    });

    it('offline code reached from an entry point is refused, with the chain that loads it', () => {
      const files = {
        'api/main.ts': "import { app } from './app';",
        'api/app.ts': "import type { Corpus } from '../models/training/corpus';\nexport const load = () => require('../domain/lazy');",
        'domain/lazy/index.ts': "\nimport { simulate } from '../../models/training/simulator';",
        'models/training/corpus.ts': '',
        'models/training/simulator/index.ts': '',
        'models/training/evaluate.ts': "import { app } from '../../api/app';",
      };
      const violations = checkNeverLoaded(Sources.fromObject(files), ['api/main.ts'], OFFLINE);
      assertOne(violations, 'domain/lazy/index.ts', '../../models/training/simulator');
      assert.ok(violations[0].includes('api/main.ts → api/app.ts → domain/lazy/index.ts → models/training/simulator/index.ts'), violations[0]);
      assert.deepEqual(checkNeverLoaded(Sources.fromObject(files), ['worker/main.ts'], OFFLINE), ['entry point worker/main.ts does not exist']);
      assertOne(checkNeverLoaded(Sources.fromObject({ 'api/main.ts': "import './gone';" }), ['api/main.ts'], OFFLINE), 'api/main.ts', './gone');
    });
  });
});
