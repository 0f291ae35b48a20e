// Runs Shopify's theme-check on a theme app extension folder and exits 1 on any offence, whatever its severity.
//
//   node .ci/theme-check.mjs [--json] DIR
//
// It is what the Shopify CLI runs when it builds an app (`themeCheckRun(dir, 'theme-check:theme-app-extension')`),
// with the package from .ci/node (`make theme-check-install`). theme-check would fetch the newest Liquid
// docs from GitHub; it is pointed at a folder that does not exist instead, so it uses the docs bundled with
// the pinned package: offline, and the same answer on every machine. Its docs cache goes to a temporary folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const asJson = args.includes('--json');
const dirs = args.filter((arg) => arg !== '--json');
if (dirs.length !== 1 || !fs.existsSync(path.join(dirs[0], 'shopify.extension.toml'))) {
  console.error('usage: node .ci/theme-check.mjs [--json] DIR (a folder holding shopify.extension.toml)');
  process.exit(2);
}
const root = path.resolve(dirs[0]);

const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'theme-check-cache-'));
process.env.XDG_CACHE_HOME = cache;
process.env.SHOPIFY_TLD_ROOT = 'file:' + path.join(here, 'node', 'no-remote-docs');

let themeCheckRun;
try {
  ({ themeCheckRun } = createRequire(path.join(here, 'node', 'package.json'))('@shopify/theme-check-node'));
} catch (error) {
  console.error(`@shopify/theme-check-node is not installed in .ci/node (make theme-check-install): ${error.message}`);
  process.exit(2);
}

const severities = ['error', 'warning', 'info'];
try {
  const { theme, offenses } = await themeCheckRun(root, 'theme-check:theme-app-extension');
  const files = theme.map((source) => path.relative(root, fileURLToPath(source.uri))).sort();
  const found = offenses.map((offense) => ({
    check: offense.check,
    severity: severities[offense.severity] ?? String(offense.severity),
    file: path.relative(root, fileURLToPath(offense.uri)),
    line: offense.start.line + 1,
    column: offense.start.character + 1,
    message: offense.message,
  }));
  if (asJson) {
    console.log(JSON.stringify({ root, files, offences: found }, null, 2));
  } else {
    for (const o of found) console.log(`${o.file}:${o.line}:${o.column}: ${o.severity} ${o.check}: ${o.message}`);
    console.log(`theme-check: ${files.length} file(s) checked, ${found.length} offence(s)`);
  }
  process.exitCode = found.length === 0 ? 0 : 1;
} finally {
  fs.rmSync(cache, { recursive: true, force: true });
}
