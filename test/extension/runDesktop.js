// The same extension-host suite in desktop VS Code, for people who have internet and a display:
// @vscode/test-electron downloads VS Code. CI runs the suite in code-server instead (test/e2e/run.mjs).
const { execFileSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { runTests } = require('@vscode/test-electron');

async function main() {
  const root = path.resolve(__dirname, '..', '..');
  const workspace = path.join(os.tmpdir(), `runlens-desktop-${process.pid}`);
  execFileSync('bash', [path.join(root, 'scripts', 'demo-workspace.sh'), workspace], { stdio: 'inherit' });
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out', 'test', 'extension', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
