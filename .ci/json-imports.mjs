// Node loader hook: @actions/workflow-parser imports its JSON schema without `with { type: "json" }`
// (it is built for bundlers); plain Node refuses that, so JSON modules get the attribute here.
export async function load(url, context, nextLoad) {
  if (url.endsWith(".json")) {
    return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: "json" } });
  }
  return nextLoad(url, context);
}
