// Builds everything the package ships, plus (with flags) the test and bench bundles.
//   node esbuild.js            dist/cli.js
//   node esbuild.js --tests    also out/test/**.test.js
//   node esbuild.js --bench    also out/bench/bench.js
//   node esbuild.js --faults   also out/faults/faults.js (npm run faults)
//   node esbuild.js --production   minified, no source maps (npm run package)
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const flags = new Set(process.argv.slice(2));
const pkg = require('./package.json');
const production = flags.has('--production');
const common = {
  define: { RUNLENS_VERSION: JSON.stringify(pkg.version) },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
};

function testEntries(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f));
}

/** sql.js loads its wasm from beside the bundle that uses it; it is never fetched. */
function copyWasm(outdir) {
  fs.mkdirSync(outdir, { recursive: true });
  fs.copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), path.join(outdir, 'sql-wasm.wasm'));
}

async function main() {
  // A package must not carry a development build's leftovers (source maps, old bundles).
  if (production) fs.rmSync('dist', { recursive: true, force: true });
  const builds = [
    esbuild.build({ ...common, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist' }),
    esbuild.build({ ...common, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist', external: ['vscode'] }),
    // Loaded by SeriesPool from beside the bundle that uses it, like the wasm.
    esbuild.build({ ...common, entryPoints: { seriesWorker: 'src/core/series/seriesWorker.ts' }, outdir: 'dist' }),
    // The panels' browser code: one script per panel, no inline code, loaded under a nonce.
    esbuild.build({ ...common, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: { compare: 'webview/compare/main.ts', table: 'webview/table/main.ts' }, outdir: 'dist/webview' }),
  ];
  fs.mkdirSync('dist/webview', { recursive: true });
  fs.copyFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'dist/webview/uPlot.min.css');
  copyWasm('dist');
  if (flags.has('--tests')) {
    fs.rmSync('out/test', { recursive: true, force: true });
    builds.push(esbuild.build({ ...common, entryPoints: testEntries('test/unit'), outbase: 'test', outdir: 'out/test' }));
    builds.push(
      esbuild.build({ ...common, entryPoints: [...testEntries('test/extension'), 'test/extension/index.ts'], outbase: 'test', outdir: 'out/test', external: ['vscode', 'mocha'] }),
    );
    copyWasm('out/test/unit');
    builds.push(esbuild.build({ ...common, entryPoints: { seriesWorker: 'src/core/series/seriesWorker.ts' }, outdir: 'out/test/unit' }));
  }
  if (flags.has('--faults')) {
    builds.push(esbuild.build({ ...common, entryPoints: { faults: 'test/faults/main.ts' }, outdir: 'out/faults' }));
    copyWasm('out/faults');
  }
  if (flags.has('--bench')) {
    builds.push(esbuild.build({ ...common, entryPoints: { bench: 'bench/bench.ts' }, outdir: 'out/bench' }));
    copyWasm('out/bench');
  }
  await Promise.all(builds);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
