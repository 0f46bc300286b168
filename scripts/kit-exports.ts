// The public surface of @baton/kit, and who uses it.
//
//   node scripts/kit-exports.ts            every name, with where it is used
//   node scripts/kit-exports.ts --unused   only the names nothing outside their folder uses
//   node scripts/kit-exports.ts --files    with the files that use each name
//
// For each entry in packages/kit/package.json `exports`, the TypeScript checker lists the names
// the entry exports (following `export * from` and `export { } from`). A name is used when a file
// outside packages/kit/src/<the entry's folder> imports it through the entry: by `@baton/kit/...`
// or, from another kit folder, by a relative path to the entry's file. A kit file that imports the
// implementation file directly does not count: it does not need the public entry.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const kitRoot = join(repoRoot, 'packages/kit');
const kitSrc = join(kitRoot, 'src');

interface ExportedName {
  name: string;
  /** A type or interface only: nothing of it exists at run time. */
  typeOnly: boolean;
}

interface Entry {
  /** `@baton/kit/http` */
  specifier: string;
  /** The entry's file, absolute. */
  file: string;
  /** `http`: the folder under packages/kit/src whose own files do not count as users. */
  folder: string;
}

/** Where a user is, for the report: services, bench, test, web, packages/<name>, or kit/<folder>. */
function areaOf(file: string): string {
  const path = relative(repoRoot, file).split(sep);
  if (path[0] === 'packages' && path[1] === 'kit') return `kit/${path[3] ?? ''}`;
  if (path[0] === 'packages' || path[0] === 'services') return `${path[0]}/${path[1] ?? ''}`;
  return path[0] ?? '';
}

function readEntries(): Entry[] {
  const manifest = JSON.parse(readFileSync(join(kitRoot, 'package.json'), 'utf8')) as { name: string; exports: Record<string, string> };
  return Object.entries(manifest.exports).map(([subpath, target]) => {
    const file = join(kitRoot, target);
    return { specifier: `${manifest.name}/${subpath.replace(/^\.\//, '')}`, file, folder: relative(kitSrc, file).split(sep)[0] ?? '' };
  });
}

function createProgram(): ts.Program {
  const configPath = join(repoRoot, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repoRoot, undefined, configPath);
  // web/ is not in the root project (it may have its own); its .ts files are read for imports too.
  const web = ts.sys.readDirectory(join(repoRoot, 'web'), ['.ts', '.tsx', '.mts'], ['**/node_modules/**'], undefined);
  return ts.createProgram({ rootNames: [...parsed.fileNames, ...web], options: parsed.options });
}

/** The names each entry exports, as the checker sees them (re-exports followed). */
function exportsOf(program: ts.Program, entries: Entry[]): Map<Entry, ExportedName[]> {
  const checker = program.getTypeChecker();
  const result = new Map<Entry, ExportedName[]>();
  for (const entry of entries) {
    const source = program.getSourceFile(entry.file);
    const symbol = source && checker.getSymbolAtLocation(source);
    if (!symbol) throw new Error(`${relative(repoRoot, entry.file)} is not in the program, or exports nothing`);
    const names = checker.getExportsOfModule(symbol).map((exported) => {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      return { name: exported.getName(), typeOnly: (target.flags & ts.SymbolFlags.Value) === 0 };
    });
    result.set(entry, names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  }
  return result;
}

/** Every (entry, name) → the files outside the entry's folder that import the name through it. */
function usesOf(program: ts.Program, entries: Entry[]): Map<string, Set<string>> {
  const checker = program.getTypeChecker();
  const byFile = new Map(entries.map((entry) => [entry.file, entry]));
  const uses = new Map<string, Set<string>>();
  const record = (entry: Entry, name: string, user: string): void => {
    const key = `${entry.specifier} ${name}`;
    uses.set(key, (uses.get(key) ?? new Set()).add(user));
  };

  for (const source of program.getSourceFiles()) {
    const user = source.fileName;
    if (user.includes(`${sep}node_modules${sep}`) || !user.startsWith(repoRoot + sep)) continue;

    const entryFor = (moduleSpecifier: ts.Node): Entry | undefined => {
      const declaration = checker.getSymbolAtLocation(moduleSpecifier)?.declarations?.[0];
      const entry = declaration && byFile.get(declaration.getSourceFile().fileName);
      // A file of the entry's own folder is not a user of its public surface.
      if (!entry || user.startsWith(join(kitSrc, entry.folder) + sep)) return undefined;
      return entry;
    };

    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node)) {
        const entry = entryFor(node.moduleSpecifier);
        const bindings = node.importClause?.namedBindings;
        if (entry && bindings && ts.isNamedImports(bindings)) {
          for (const element of bindings.elements) record(entry, (element.propertyName ?? element.name).text, user);
        } else if (entry && bindings && ts.isNamespaceImport(bindings)) {
          recordNamespaceUses(source, bindings.name.text, (name) => record(entry, name, user));
        }
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
        const entry = entryFor(node.moduleSpecifier);
        if (entry && node.exportClause && ts.isNamedExports(node.exportClause)) {
          for (const element of node.exportClause.elements) record(entry, (element.propertyName ?? element.name).text, user);
        } else if (entry) {
          for (const { name } of exportsOf(program, [entry]).get(entry) ?? []) record(entry, name, user);
        }
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        // `import('@baton/kit/db').Database` in a type.
        const entry = entryFor(node.argument.literal);
        if (entry && node.qualifier) record(entry, leftmost(node.qualifier), user);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) {
        // `const { x } = await import('...')`: the names destructured, when they are written out.
        const entry = entryFor(node.arguments[0]);
        const pattern = entry && destructuredFrom(node);
        if (entry && pattern) for (const name of pattern) record(entry, name, user);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return uses;
}

function leftmost(name: ts.EntityName): string {
  return ts.isIdentifier(name) ? name.text : leftmost(name.left);
}

function recordNamespaceUses(source: ts.SourceFile, namespace: string, record: (name: string) => void): void {
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === namespace) record(node.name.text);
    if (ts.isQualifiedName(node) && ts.isIdentifier(node.left) && node.left.text === namespace) record(node.right.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
}

function destructuredFrom(call: ts.CallExpression): string[] | undefined {
  const parent = ts.isAwaitExpression(call.parent) ? call.parent.parent : call.parent;
  if (!ts.isVariableDeclaration(parent) || !ts.isObjectBindingPattern(parent.name)) return undefined;
  return parent.name.elements.map((element) => {
    const name = element.propertyName ?? element.name;
    return ts.isIdentifier(name) ? name.text : name.getText();
  });
}

/**
 * The exported types a user meets in the signature of a name it uses: the types named in the
 * declarations of the used names (parameters, return types, members; bodies and initialisers
 * skipped), followed through every kit type they name in turn. Such a type stays public even when
 * nobody names it yet, so that a service author can.
 */
function typesInSignaturesOf(program: ts.Program, used: ts.Symbol[]): Map<ts.Symbol, ts.Symbol> {
  const checker = program.getTypeChecker();
  const reachedFrom = new Map<ts.Symbol, ts.Symbol>();
  const queue = used.map((symbol) => ({ symbol, from: symbol }));
  const seen = new Set<ts.Symbol>();
  while (queue.length > 0) {
    const { symbol, from } = queue.shift()!;
    if (seen.has(symbol)) continue;
    seen.add(symbol);
    for (const declaration of symbol.declarations ?? []) {
      if (!declaration.getSourceFile().fileName.startsWith(kitSrc + sep)) continue;
      const visit = (node: ts.Node): void => {
        if (ts.isBlock(node) || (ts.isVariableDeclaration(node.parent) && node === node.parent.initializer)) return;
        if (ts.isPropertyDeclaration(node.parent) && node === node.parent.initializer) return;
        const name = ts.isTypeReferenceNode(node) ? node.typeName : ts.isExpressionWithTypeArguments(node) ? node.expression : ts.isTypeQueryNode(node) ? node.exprName : undefined;
        if (name) {
          let target = checker.getSymbolAtLocation(ts.isQualifiedName(name) ? name.right : name);
          if (target && target.flags & ts.SymbolFlags.Alias) target = checker.getAliasedSymbol(target);
          if (target && !seen.has(target)) {
            if (!reachedFrom.has(target)) reachedFrom.set(target, from);
            queue.push({ symbol: target, from });
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(declaration);
    }
  }
  return reachedFrom;
}

function targetOf(checker: ts.TypeChecker, entry: Entry, name: string, program: ts.Program): ts.Symbol | undefined {
  const source = program.getSourceFile(entry.file);
  const module = source && checker.getSymbolAtLocation(source);
  const exported = module && checker.getExportsOfModule(module).find((symbol) => symbol.getName() === name);
  return exported && exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
}

const onlyUnused = process.argv.includes('--unused');
const withFiles = process.argv.includes('--files');
const entries = readEntries();
const program = createProgram();
const checker = program.getTypeChecker();
const exported = exportsOf(program, entries);
const uses = usesOf(program, entries);
const usersOf = (entry: Entry, name: string): string[] => [...(uses.get(`${entry.specifier} ${name}`) ?? [])];

const usedSymbols = entries.flatMap((entry) => (exported.get(entry) ?? [])
  .filter(({ name }) => usersOf(entry, name).length > 0)
  .flatMap(({ name }) => targetOf(checker, entry, name, program) ?? []));
const inSignatures = typesInSignaturesOf(program, usedSymbols);

let total = 0;
let unused = 0;
let kitOnly = 0;
let unusedInSignatures = 0;
for (const entry of entries) {
  const names = exported.get(entry) ?? [];
  const lines: string[] = [];
  for (const { name, typeOnly } of names) {
    const users = usersOf(entry, name);
    const areas = [...new Set(users.map(areaOf))].sort();
    const kind = typeOnly ? 'type ' : '';
    total++;
    if (users.length > 0) {
      if (areas.every((area) => area.startsWith('kit/'))) kitOnly++;
      if (!onlyUnused) lines.push(`  ${kind}${name}: used in ${users.length} file(s): ${areas.join(', ')}`);
      if (!onlyUnused && withFiles) lines.push(...users.map((user) => `    ${relative(repoRoot, user)}`).sort());
      continue;
    }
    unused++;
    const target = targetOf(checker, entry, name, program);
    const via = target && inSignatures.get(target);
    if (via) unusedInSignatures++;
    lines.push(`  ${kind}${name}: UNUSED${via ? ` (in the signature of used ${via.getName()})` : ''}`);
  }
  console.log(`${entry.specifier} (${relative(repoRoot, entry.file)}): ${names.length} names`);
  for (const line of lines) console.log(line);
}
console.log(`\ntotal: ${total} names; ${total - unused} used outside their folder (${kitOnly} of them only by other kit folders); ${unused} unused (${unusedInSignatures} of them in the signature of a used name)`);
