/**
 * The architecture of packages/generator/src, written down once: its folders are layers, and a
 * layer imports only layers below it (test/architecture.test.ts runs this and fails on any
 * violation; `npx depcruise packages --config .dependency-cruiser.cjs` shows them).
 *
 *   core < upstream < discover < fold < templatize < features < order < generate < emit
 *        < verify | diff < commands < cli
 *
 * Layers on one line with `|` are siblings: neither imports the other. Since every import
 * points down, no two folders form a cycle (the test checks that too). Modules of one folder
 * may import each other freely.
 */
const LAYERS = [['core'], ['upstream'], ['discover'], ['fold'], ['templatize'], ['features'], ['order'], ['generate'], ['emit'], ['verify', 'diff'], ['commands'], ['cli']];
const SRC = '^packages/generator/src/';
/** A layer's files: its folder; `cli` is also the entry point src/cli.ts. */
const files = (name) => (name === 'cli' ? `${SRC}cli(\\.ts$|/)` : `${SRC}${name}/`);
const any = (names) => `(${names.map(files).join('|')})`;

const layerRules = LAYERS.flatMap((level, i) => {
  const above = LAYERS.slice(i + 1).flat();
  return level.map((name) => ({
    name: `layer-${name}`,
    comment: `${name} imports only layers below it (${LAYERS.slice(0, i).flat().join(', ') || 'none'}): ${level.length > 1 ? `not its siblings (${level.filter((x) => x !== name).join(', ')}), ` : ''}not ${above.join(', ') || 'anything above'}`,
    severity: 'error',
    from: { path: files(name) },
    to: { path: any([...above, ...level.filter((x) => x !== name)]) },
  }));
}).filter((r) => r.to.path !== '()');

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-unknown',
      comment: 'every folder of packages/generator/src is a layer of LAYERS (.dependency-cruiser.cjs): a new folder gets a place there',
      severity: 'error',
      from: { path: SRC, pathNot: any(LAYERS.flat()) },
      to: {},
    },
    {
      name: 'chart-testing-uses-generator-core',
      comment: 'packages/chart-testing uses the generator only through its published core/ entry points',
      severity: 'error',
      from: { path: '^packages/chart-testing/src/' },
      to: { path: '^packages/generator/', pathNot: '^packages/generator/(src|dist)/core/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import resolves',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
