// GitHub's own workflow parser (@actions/workflow-parser) for the harness cross-check: for each
// workflow file named on the command line, prints one JSON line {"file", "errors", "jobs"}: the
// schema and expression errors GitHub would report, and per job its id, needs and step count as
// GitHub's template reads them (the harness must read the same).
import { readFileSync } from "node:fs";
import { register } from "node:module";

register("./json-imports.mjs", import.meta.url);
const { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } = await import("@actions/workflow-parser");

for (const file of process.argv.slice(2)) {
  const parsed = parseWorkflow({ name: file, content: readFileSync(file, "utf8") }, new NoOperationTraceWriter());
  let jobs = [];
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    jobs = (template.jobs || []).map((job) => ({
      id: job.id.value,
      needs: (job.needs || []).map((need) => need.value),
      steps: (job.steps || []).length,
    }));
  }
  const errors = parsed.context.errors.getErrors().map((error) => error.message);
  console.log(JSON.stringify({ file, errors, jobs }));
}
