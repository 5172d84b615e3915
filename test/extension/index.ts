// Loaded by VS Code's extension host through --extensionTestsPath: mocha, tdd, the suites next to it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: 'spec' });
  const dir = path.join(__dirname, 'suite');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.test.js'))) mocha.addFile(path.join(dir, file));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} extension test(s) failed`)) : resolve()));
  });
}
