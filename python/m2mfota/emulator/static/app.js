// Dashboard of the m2mfota KPN Things emulator: plain JS, polls the REST API every second.
"use strict";

const POLL_MS = 1000;
let timer = null;
let generation = 0;

const $ = (sel) => document.querySelector(sel);
const esc = (v) => String(v ?? "").replace(/[&<>"']/g,
  (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const when = (t) => (t ? new Date(t * 1000).toLocaleTimeString() : "never");

// The API key lives in this tab's sessionStorage only and travels in the
// Authorization header: no cookie, so no other site can make the browser send it.
const KEY_STORE = "m2mfota-api-key";
const apiKey = () => sessionStorage.getItem(KEY_STORE);

class AuthError extends Error {}

async function api(method, path, body, isForm) {
  const opts = {method, headers: {}};
  if (apiKey()) opts.headers.Authorization = `Bearer ${apiKey()}`;
  if (body !== undefined) {
    if (isForm) opts.body = body;
    else { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  }
  const resp = await fetch(path, opts);
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  if (resp.status === 401) throw new AuthError((data && data.error) || "API key needed");
  if (!resp.ok) {
    const err = new Error((data && data.error) || resp.statusText);
    err.field = data && data.field;
    throw err;
  }
  return data;
}

// Bar widths are set from data-progress here: the CSP forbids inline style attributes.
function fillBars() {
  document.querySelectorAll(".bar[data-progress] .fill").forEach((el) => {
    el.style.width = `${el.parentElement.dataset.progress}%`;
  });
}

// A record as the operator reads it: name without the device's base name, value, unit.
function recordText(r) {
  const value = r.vs ?? r.v ?? r.vb ?? r.vd ?? r.s ?? "";
  return r.n.replace(/^urn:dev:IMEI:[^:]*:/, "") + "=" + value + (r.u ? " " + r.u : "");
}

function progressBar(id, status, progress) {
  const done = status === "done";
  const pct = done ? 100 : Math.round(progress ?? 0);
  return `<div class="bar ${esc(status)}" id="progress-${esc(id)}" data-progress="${pct}"
      data-status="${esc(status)}"><div class="fill"></div>
      <span class="pct">${pct}%</span></div>`;
}

const badge = (s) => `<span class="badge ${esc(s)}">${esc(s)}</span>`;

function fwCell(reported, desired) {
  const cls = desired && reported !== desired ? "mismatch" : "";
  return `<span class="${cls}">${esc(reported ?? "?")}</span>`;
}

// -- views -----------------------------------------------------------------
async function showDevices() {
  const devices = await api("GET", "/api/devices");
  const rows = devices.map((d) => {
    const desired = d.desired ? d.desired.version : null;
    return `<tr id="device-row-${esc(d.imei)}">
      <td class="mono"><a href="#/device/${esc(d.imei)}">${esc(d.imei)}</a></td>
      <td>${esc(d.type)}</td><td>${esc(d.client)}</td>
      <td class="reported">${fwCell(d.reported.firmware, desired)}</td>
      <td class="desired">${esc(desired ?? "—")}</td>
      <td class="status">${badge(d.update.status)}</td>
      <td>${esc(d.reported.state ?? "")}${d.reported.error ? ` (<span title="${esc(d.reported.error_name)}">${esc(d.reported.error)}</span>)` : ""}</td>
      <td>${progressBar(d.imei, d.update.status, d.reported.progress)}</td>
      <td>${esc(d.update.attempts)}/${esc(1 + d.update.retry_limit)}</td>
      <td>${when(d.last_seen)}</td></tr>`;
  }).join("");
  $("#devices-table").innerHTML = `<table><thead><tr><th>IMEI</th><th>Type</th><th>Client</th>
    <th>Reported</th><th>Desired</th><th>Update</th><th>FOTA state</th><th>Progress</th>
    <th>Attempts</th><th>Last seen</th></tr></thead><tbody>${rows ||
    '<tr><td colspan="10">No devices yet.</td></tr>'}</tbody></table>`;
}

// Secrets revealed in this page view (the API masks them in every other answer).
const revealed = {};

async function showDevice(imei) {
  const [d, uplinks, dl] = await Promise.all([
    api("GET", `/api/devices/${encodeURIComponent(imei)}`),
    api("GET", `/api/devices/${encodeURIComponent(imei)}/uplinks?limit=20`),
    api("GET", `/api/devices/${encodeURIComponent(imei)}/download`)]);
  const st = dl.stats;
  $("#device-imei").textContent = imei;
  const desired = d.desired ? d.desired.version : null;
  $("#device-detail").innerHTML = `<table><tbody>
    <tr><th>Type / client</th><td>${esc(d.type)} / ${esc(d.client)}</td></tr>
    <tr><th>Secret</th><td class="mono"><span id="device-secret">${esc(revealed[d.imei] ?? d.secret)}</span>
      <button type="button" id="reveal-secret" data-imei="${esc(d.imei)}">reveal</button></td></tr>
    <tr><th>Reported firmware</th><td>${fwCell(d.reported.firmware, desired)}</td></tr>
    <tr><th>Desired firmware</th><td>${esc(desired ?? "—")}</td></tr>
    <tr><th>Download</th><td id="device-download">${d.update.delta_id !== null ?
      `delta file #${esc(d.update.delta_id)}` : d.update.file_id ? "full image" : "—"}</td></tr>
    <tr><th>Update</th><td>${badge(d.update.status)} attempt ${esc(d.update.attempts)} of
      ${esc(1 + d.update.retry_limit)}${d.update.campaign_id ?
        ` · <a href="#/campaign/${d.update.campaign_id}">campaign ${d.update.campaign_id}</a>` : ""}</td></tr>
    <tr><th>FOTA state</th><td id="device-state">${esc(d.reported.state ?? "")}${d.reported.result_name ?
      " · " + esc(d.reported.result_name) : ""}${d.reported.error ? " (" + esc(d.reported.error) + ": " +
      esc(d.reported.error_name) + ")" : ""}</td></tr>
    <tr><th>Progress</th><td>${progressBar(d.imei, d.update.status, d.reported.progress)}</td></tr>
    <tr><th>Faults</th><td class="mono" id="device-faults">${esc(d.faults ? JSON.stringify(d.faults) : "none")}</td></tr>
    <tr><th>File server</th><td class="mono">${st ? `${st.requests} requests on ${st.connections}
      connections, ${st.bytes_sent} bytes sent, statuses ${esc(JSON.stringify(st.statuses))}`
      : "no file published"}</td></tr>
    <tr><th>Sent for this update</th><td id="device-bytes-sent">${esc(d.update.bytes_sent)} bytes
      by the downloads that ended</td></tr>
    <tr><th>Last seen</th><td>${when(d.last_seen)}</td></tr></tbody></table>`;
  const rows = uplinks.map((u) => `<tr><td>${when(u.received)}</td>
    <td class="mono">${esc(u.records.map(recordText).join("  "))}</td>
    <td>${u.downlink ? "FOTA command" : ""}</td></tr>`).join("");
  $("#device-uplinks").innerHTML = `<table><thead><tr><th>Received</th><th>Records</th>
    <th>Downlink</th></tr></thead><tbody>${rows ||
    '<tr><td colspan="3">No uplinks yet.</td></tr>'}</tbody></table>`;
}

function countsHtml(c) {
  return ["pending", "downloading", "done", "failed", "skipped"].map((k) =>
    `<div class="count-${k}" data-count="${c[k]}"><b>${c[k]}</b>${k}</div>`).join("");
}

async function showCampaigns() {
  const list = await api("GET", "/api/campaigns");
  const rows = list.map((c) => `<tr><td><a href="#/campaign/${c.id}">${c.id}</a></td>
    <td>${esc(c.name)}</td><td>${esc(c.firmware.version)} (${esc(c.firmware.kind)})${c.delta ?
      ` · delta from ${esc(c.delta.source.version)}` : ""}</td>
    <td class="mono">${esc(JSON.stringify(c.target))}</td>
    <td>${c.counts.pending}</td><td>${c.counts.downloading}</td><td>${c.counts.done}</td>
    <td>${c.counts.failed}</td></tr>`).join("");
  $("#campaigns-table").innerHTML = `<table><thead><tr><th>#</th><th>Name</th><th>Firmware</th>
    <th>Target</th><th>Pending</th><th>Downloading</th><th>Done</th><th>Failed</th></tr></thead>
    <tbody>${rows || '<tr><td colspan="8">No campaigns yet.</td></tr>'}</tbody></table>`;
}

async function showCampaign(id) {
  const c = await api("GET", `/api/campaigns/${id}`);
  $("#campaign-title").textContent = `${c.id}: ${c.name} → ${c.firmware.version}`;
  $("#campaign-counts").innerHTML = countsHtml(c.counts) +
    `<div class="meta">target <span class="mono">${esc(JSON.stringify(c.target))}</span><br>
     faults <span class="mono" id="campaign-faults">${esc(c.faults ? JSON.stringify(c.faults) : "none")}</span>
     ${c.delta ? `<br><span id="campaign-delta">delta from ${esc(c.delta.source.version)}:
       ${esc(c.delta.size)} B delta file for a ${esc(c.delta.target.size)} B image
       (${pct(c.delta.ratio)}); other versions: ${c.delta.others === "full" ?
       "the full image" : "skipped"}</span>` : ""}</div>`;
  const rows = c.devices.map((d) => `<tr id="campaign-row-${esc(d.imei)}">
    <td class="mono"><a href="#/device/${esc(d.imei)}">${esc(d.imei)}</a></td>
    <td class="reported">${fwCell(d.reported, d.desired)}</td><td>${esc(d.desired)}</td>
    <td class="status">${badge(d.status)}</td><td>${esc(d.state ?? "")}</td>
    <td>${progressBar(d.imei, d.status, d.progress)}</td>
    <td class="served">${esc(d.served ?? "")}</td>
    <td class="error" title="${esc(d.error_name)}">${esc([d.result_name, d.error].filter(Boolean).join(" · "))}</td>
    <td>${when(d.last_seen)}</td></tr>`).join("");
  $("#campaign-devices").innerHTML = `<table><thead><tr><th>IMEI</th><th>Reported</th>
    <th>Desired</th><th>Status</th><th>FOTA state</th><th>Progress</th><th>Sent</th><th>Error</th>
    <th>Last seen</th></tr></thead><tbody>${rows}</tbody></table>`;
}

async function showEvents() {
  // Refusals name IMEIs that were never registered: only a registered device has a page.
  const [events, devices] = await Promise.all([api("GET", "/api/events?limit=200"),
                                               api("GET", "/api/devices")]);
  const known = new Set(devices.map((d) => d.imei));
  const device = (imei) => (known.has(imei) ?
    `<a href="#/device/${esc(imei)}">${esc(imei)}</a>` : esc(imei));
  const rows = events.map((e) => `<tr class="event ${esc(e.kind)}" data-kind="${esc(e.kind)}">
    <td>${when(e.time)}</td><td>${badge(e.kind)}</td>
    <td class="mono">${e.imei ? device(e.imei) : ""}</td>
    <td>${esc(e.status ?? "")}</td><td class="mono">${esc(e.message)}</td>
    </tr>`).join("");
  $("#events-table").innerHTML = `<table><thead><tr><th>Time</th><th>Kind</th><th>Device</th>
    <th>Status</th><th>What</th></tr></thead><tbody>${rows ||
    '<tr><td colspan="5">No events yet.</td></tr>'}</tbody></table>`;
}

const short = (hex) => `${esc(hex.slice(0, 12))}…`;
const pct = (ratio) => `${(ratio * 100).toFixed(1)} %`;

// A delta file beside its two images: what a device on the source downloads.
function deltaDetail(d) {
  const image = (label, f) => `<tr><th>${label}</th><td>#${esc(f.id)} ${esc(f.version)}
    (${esc(f.kind)}), ${esc(f.size)} bytes</td><td class="mono">${esc(f.sha256)}</td></tr>`;
  return `<table id="delta-${d.id}"><tbody>
    ${image("Source", d.source)}${image("Target", d.target)}
    <tr><th>Delta file</th><td id="delta-size">${esc(d.size)} bytes, ${pct(d.ratio)} of the
      target (${esc(d.compression)}), saves ${esc(d.saved)} bytes</td>
      <td class="mono">${esc(d.sha256)}</td></tr></tbody></table>`;
}

async function showDeltas(list) {
  const sig = JSON.stringify(list.map((f) => f.id));
  for (const sel of [$("#delta-source"), $("#delta-target")]) {
    if (sel.dataset.sig === sig) continue;  // unchanged: leave an open dropdown alone
    sel.dataset.sig = sig;
    const keep = sel.value;
    sel.innerHTML = list.map((f) =>
      `<option value="${f.id}">${esc(f.version)} (#${f.id}, ${esc(f.size)} B)</option>`).join("");
    if (list.some((f) => String(f.id) === keep)) sel.value = keep;
  }
  const deltas = await api("GET", "/api/deltas");
  const rows = deltas.map((d) => `<tr id="delta-row-${d.id}"><td>${d.id}</td>
    <td>${esc(d.source.version)} → ${esc(d.target.version)}</td>
    <td>${esc(d.source.size)}</td><td>${esc(d.target.size)}</td><td>${esc(d.size)}</td>
    <td>${pct(d.ratio)}</td><td class="mono" title="${esc(d.sha256)}">${short(d.sha256)}</td>
    <td><button type="button" class="delta-show" data-id="${d.id}">show</button></td></tr>`)
    .join("");
  $("#deltas-table").innerHTML = `<table><thead><tr><th>#</th><th>From → to</th>
    <th>Source bytes</th><th>Target bytes</th><th>Delta bytes</th><th>Ratio</th>
    <th>SHA-256</th><th></th></tr></thead><tbody>${rows ||
    '<tr><td colspan="8">No delta files yet.</td></tr>'}</tbody></table>`;
}

async function showFirmware() {
  const list = await api("GET", "/api/firmware");
  const rows = list.map((f) => `<tr id="firmware-row-${f.id}"><td>${f.id}</td>
    <td class="version">${esc(f.version)}</td><td>${esc(f.kind)}</td><td>${esc(f.filename)}</td>
    <td>${esc(f.size)}</td><td class="mono">${esc(f.crc32)}</td>
    <td class="mono" title="${esc(f.sha256)}">${short(f.sha256)}</td><td>${when(f.created)}</td>
    <td><button type="button" class="fw-inspect" data-id="${f.id}">inspect</button>
      <button type="button" class="fw-delete" data-id="${f.id}">delete</button></td></tr>`).join("");
  $("#firmware-table").innerHTML = `<table><thead><tr><th>#</th><th>Version</th><th>Kind</th>
    <th>File</th><th>Bytes</th><th>CRC-32</th><th>SHA-256</th><th>Uploaded</th><th></th>
    </tr></thead><tbody>${rows || '<tr><td colspan="9">No firmware yet.</td></tr>'}</tbody>
    </table>`;
  await showDeltas(list);
}

async function showNew() {
  const list = await api("GET", "/api/firmware");
  const sel = $("#cf-firmware");
  const sig = JSON.stringify(list.map((f) => f.id));
  if (sel.dataset.sig === sig) return;  // unchanged: leave an open dropdown alone
  sel.dataset.sig = sig;
  const keep = sel.value;
  sel.innerHTML = '<option value="">upload the file below</option>' + list.map((f) =>
    `<option value="${f.id}">${esc(f.version)} (#${f.id}, ${esc(f.kind)}, ${esc(f.size)} B)</option>`).join("");
  sel.value = list.some((f) => String(f.id) === keep) ? keep : "";
  const from = $("#cf-delta-from");
  const keepFrom = from.value;
  const versions = [...new Set(list.map((f) => f.version))];
  from.innerHTML = '<option value="">no: send the full image</option>' + versions.map((v) =>
    `<option value="${esc(v)}">${esc(v)}</option>`).join("");
  from.value = versions.includes(keepFrom) ? keepFrom : "";
}

// -- routing and polling ----------------------------------------------------
function showView(name) {
  document.querySelectorAll(".view").forEach((v) => v.classList.toggle("shown",
    v.id === `view-${name}`));
}

function showLogin(message) {
  clearTimeout(timer);
  generation++;
  showView("login");
  $("#nav-logout").hidden = true;
  report($("#login-result"), message ? new Error(message) : null, "");
  $("#login-key").focus();
}

function route() {
  const parts = (location.hash || "#/devices").slice(2).split("/");
  const views = {devices: [showDevices], device: [showDevice, parts[1]],
                 campaigns: [showCampaigns], campaign: [showCampaign, parts[1]],
                 new: [showNew], events: [showEvents], firmware: [showFirmware]};
  const name = views[parts[0]] ? parts[0] : "devices";
  $("#nav-logout").hidden = !apiKey();
  // Views share element ids (a device's progress bar): only the shown one keeps content.
  ["#devices-table", "#device-detail", "#device-uplinks", "#campaigns-table",
   "#campaign-counts", "#campaign-devices", "#events-table", "#firmware-table", "#deltas-table",
   // the panels an "inspect"/"show" click filled: they belong to that visit
   "#firmware-detail", "#delta-detail"]
    .forEach((sel) => { $(sel).innerHTML = ""; });
  // A form's result or error belongs to the visit that produced it too: coming back to
  // the page later must not show it as if it were current.
  document.querySelectorAll("main output").forEach((out) => report(out, null, ""));
  showView(name);
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active",
    a.id === `nav-${name.replace(/^device$/, "devices").replace(/^campaign$/, "campaigns")}`));
  clearTimeout(timer);
  const [fn, arg] = views[name];
  const gen = ++generation;
  if (!fn) return;
  const tick = async () => {
    if (gen !== generation) return;  // a newer route() took over while this one awaited
    try {
      await fn(arg);
      if (gen !== generation) return;
      fillBars(); $("#live").classList.remove("stale");
    }
    catch (e) {
      if (e instanceof AuthError) {
        showLogin(apiKey() ? "the API key was refused" : "");
        return;
      }
      $("#live").classList.add("stale"); $("#live").title = e.message;
    }
    timer = setTimeout(tick, POLL_MS);
  };
  tick();
}

function report(out, err, okText) {
  out.classList.toggle("error", !!err);
  out.textContent = err ? `${err.field ? err.field + ": " : ""}${err.message}` : okText;
}

function parseFaults(text) {
  const t = text.trim();
  if (!t) return null;
  try { return JSON.parse(t); }
  catch (e) { const err = new Error("not JSON"); err.field = "faults"; throw err; }
}

$("#device-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = {imei: f.get("imei"), type: f.get("type"), client: f.get("client")};
  if (f.get("secret")) body.secret = f.get("secret");
  try { const d = await api("POST", "/api/devices", body);
        report($("#device-form-result"), null,
               `registered ${d.imei}; reveal its secret on its page`); }
  catch (e) { report($("#device-form-result"), e); }
});

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY_STORE, $("#login-key").value.trim());
  try { await api("GET", "/api/info"); }
  catch (e) {
    sessionStorage.removeItem(KEY_STORE);
    report($("#login-result"), e instanceof AuthError ? new Error("wrong API key") : e);
    return;
  }
  $("#login-key").value = "";
  route();
});

$("#nav-logout").addEventListener("click", (ev) => {
  ev.preventDefault();
  sessionStorage.removeItem(KEY_STORE);
  Object.keys(revealed).forEach((k) => delete revealed[k]);
  showLogin("");
});

// The reveal button is re-rendered every second: listen on the container.
$("#device-detail").addEventListener("click", async (ev) => {
  if (ev.target.id !== "reveal-secret") return;
  const imei = ev.target.dataset.imei;
  try {
    const r = await api("POST", `/api/devices/${encodeURIComponent(imei)}/secret`);
    revealed[imei] = r.secret;
    $("#device-secret").textContent = r.secret;
  } catch (e) { $("#device-secret").textContent = e.message; }
});

async function applyFaults(ev, path, out) {
  ev.preventDefault();
  try { await api("PUT", path, parseFaults(new FormData(ev.target).get("faults")));
        report(out, null, "applied"); }
  catch (e) { report(out, e); }
}
$("#device-faults-form").addEventListener("submit", (ev) => applyFaults(ev,
  `/api/devices/${encodeURIComponent($("#device-imei").textContent)}/faults`,
  $("#device-faults-result")));
$("#campaign-faults-form").addEventListener("submit", (ev) => applyFaults(ev,
  `/api/campaigns/${location.hash.split("/")[2]}/faults`, $("#campaign-faults-result")));

$("#campaign-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = $("#campaign-form-result");
  const f = new FormData(ev.target);
  try {
    let fw = {id: Number(f.get("firmware"))};
    if (!f.get("firmware")) {
      if (!f.get("file") || !f.get("file").name) {
        const err = new Error("pick a firmware or a file"); err.field = "firmware"; throw err;
      }
      const upload = new FormData();
      upload.append("file", f.get("file"));
      if (f.get("version").trim()) upload.append("version", f.get("version").trim());
      fw = await api("POST", "/api/firmware", upload, true);
    }
    const kind = f.get("target");
    const value = f.get("value").trim();
    const body = {firmware_id: fw.id, name: f.get("name").trim(),
                  [kind]: kind === "imeis" ? value.split(/[\s,]+/).filter(Boolean) : value};
    if (f.get("retry_limit") !== "") body.retry_limit = Number(f.get("retry_limit"));
    if (f.get("delta_from")) { body.delta_from = f.get("delta_from"); body.others = f.get("others"); }
    const faults = parseFaults(f.get("faults"));
    if (faults) body.faults = faults;
    const c = await api("POST", "/api/campaigns", body);
    report(out, null, `campaign ${c.id} started for ${c.counts.total} devices`);
    location.hash = `#/campaign/${c.id}`;
  } catch (e) { report(out, e); }
});

$("#firmware-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const upload = new FormData();
  upload.append("file", f.get("file"));
  if (f.get("version").trim()) upload.append("version", f.get("version").trim());
  try { const fw = await api("POST", "/api/firmware", upload, true);
        report($("#firmware-form-result"), null, `stored as #${fw.id}, version ${fw.version}`);
        ev.target.reset(); await showFirmware(); }
  catch (e) { report($("#firmware-form-result"), e); }
});

$("#firmware-table").addEventListener("click", async (ev) => {
  const id = ev.target.dataset.id;
  if (ev.target.classList.contains("fw-inspect")) {
    try {
      const f = await api("GET", `/api/firmware/${id}`);
      const m = f.mcuboot;
      $("#firmware-detail").innerHTML = `<table><tbody>
        <tr><th>Firmware</th><td id="fw-title">#${f.id} ${esc(f.version)} (${esc(f.kind)})${
          f.filename ? ", " + esc(f.filename) : ""}</td></tr>
        <tr><th>Size</th><td>${esc(f.size)} bytes</td></tr>
        <tr><th>CRC-32</th><td class="mono">${esc(f.crc32)}</td></tr>
        <tr><th>SHA-256</th><td class="mono">${esc(f.sha256)}</td></tr>
        ${m ? `<tr><th>MCUboot version</th><td>${esc(m.version)}</td></tr>
        <tr><th>Image hash</th><td id="fw-hash">${esc(m.hash)}</td></tr>
        <tr><th>Signature</th><td id="fw-signature">${esc(m.signature)}${m.signature_type ?
          " (" + esc(m.signature_type) + ")" : ""}</td></tr>` : ""}</tbody></table>`;
    } catch (e) { report($("#firmware-table-result"), e); }
    return;
  }
  if (!ev.target.classList.contains("fw-delete")) return;
  try { await api("DELETE", `/api/firmware/${id}`); await showFirmware(); }
  catch (e) { report($("#firmware-table-result"), e); }
});

$("#delta-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    const d = await api("POST", "/api/deltas", {source_id: Number(f.get("source")),
                                                target_id: Number(f.get("target"))});
    $("#delta-detail").innerHTML = deltaDetail(d);
    report($("#delta-form-result"), null, `delta file #${d.id}: ${d.size} bytes`);
    await showFirmware();
  } catch (e) { report($("#delta-form-result"), e); }
});

$("#deltas-table").addEventListener("click", async (ev) => {
  if (!ev.target.classList.contains("delta-show")) return;
  try { $("#delta-detail").innerHTML = deltaDetail(
          await api("GET", `/api/deltas/${ev.target.dataset.id}`)); }
  catch (e) { report($("#delta-form-result"), e); }
});

window.addEventListener("hashchange", route);
route();
