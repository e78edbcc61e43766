// GitHub's own expression evaluator (@actions/expressions) for the harness cross-check:
// reads one JSON object per line, {"expression": "...", "context": {...}}, and prints one JSON
// line per input: {"value": ...} or {"error": "..."}. Status functions (success(), failure(),
// always(), cancelled()) answer from context._status, as a runner's job or step status would.
import { createInterface } from "node:readline";
import { Evaluator, Lexer, Parser, data } from "@actions/expressions";

const statusFunctions = (status) =>
  new Map(
    Object.entries({
      success: status === "success",
      failure: status === "failure",
      always: true,
      cancelled: false,
    }).map(([name, value]) => [
      name,
      { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value) },
    ]),
  );

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { expression, context } = JSON.parse(line);
  try {
    const { _status: status = "success", ...contexts } = context;
    const tokens = new Lexer(expression).lex().tokens;
    const functions = statusFunctions(status);
    const parsed = new Parser(tokens, Object.keys(contexts), [...functions.values()]).parse();
    const dictionary = JSON.parse(JSON.stringify(contexts), data.reviver);
    const result = new Evaluator(parsed, dictionary, functions).evaluate();
    console.log(JSON.stringify({ value: JSON.parse(JSON.stringify(result, data.replacer) ?? "null") }));
  } catch (error) {
    console.log(JSON.stringify({ error: String(error.message || error) }));
  }
}
