// Parse a Mermaid diagram from stdin with Mermaid's own parser; exit 1 with its message if invalid.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
let text = "";
for await (const chunk of process.stdin) text += chunk;
try {
  console.log(JSON.stringify(await mermaid.parse(text)));
} catch (e) {
  console.error(String((e && e.message) || e));
  process.exit(1);
}
