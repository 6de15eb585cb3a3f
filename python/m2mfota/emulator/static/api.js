// A browsable view of /api/openapi.json: served from the package, no CDN, no framework.
"use strict";

const esc = (v) => String(v ?? "").replace(/[&<>"']/g,
  (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

function schemaText(s, doc) {
  if (!s) return "";
  if (s.$ref) return s.$ref.split("/").pop();
  if (s.type === "array") return `[${schemaText(s.items, doc)}]`;
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  let t = s.type || (s.oneOf ? "one of " + s.oneOf.length : "object");
  if (s.minimum !== undefined || s.maximum !== undefined) t += ` ${s.minimum ?? ""}..${s.maximum ?? ""}`;
  if (s.pattern) t += ` /${s.pattern}/`;
  return t;
}

async function main() {
  const doc = await (await fetch("/api/openapi.json")).json();
  const out = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = (op.parameters || []).map((p) =>
        `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ", required" : ""}):
         ${esc(schemaText(p.schema, doc))}</li>`).join("");
      const body = op.requestBody ? Object.entries(op.requestBody.content).map(([type, c]) =>
        `<li>body <code>${esc(type)}</code>: ${esc(schemaText(c.schema, doc))}</li>`).join("") : "";
      const responses = Object.entries(op.responses).map(([code, r]) =>
        `<code title="${esc(r.description)}">${esc(code)}</code>`).join(" ");
      out.push(`<section class="operation" id="op-${esc(method)}-${esc(path)}">
        <h3><span class="badge method-${esc(method)}">${esc(method.toUpperCase())}</span>
          <code>${esc(path)}</code></h3>
        <p>${esc(op.summary)}${op.security && op.security.length === 0 ? " (no key needed)" : ""}</p>
        <ul>${params}${body}</ul><p>answers ${responses}</p></section>`);
    }
  }
  document.getElementById("api-operations").innerHTML = out.join("");
}

main().catch((e) => { document.getElementById("api-operations").textContent = e.message; });
