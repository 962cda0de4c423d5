// pumpsim classroom: plain JavaScript, no third-party code, no network beyond this server.
"use strict";

// Okabe & Ito's colour-blind-safe palette; dashes tell curves apart in grey print too.
const PALETTE = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00"];
const ROUTE_STYLE = {
  iv: { color: "#000000", dash: [] },
  io: { color: "#D55E00", dash: [2, 3] },          // IV and IO: different colour AND pattern
  sc: { color: "#0072B2", dash: [] },
  im: { color: "#009E73", dash: [8, 3] },
  epidural: { color: "#CC79A7", dash: [4, 2, 1, 2] },
};
const $ = (id) => document.getElementById(id);
const state = { options: null, routes: null, pump: null, controller: null, playing: false };

// ---------------------------------------------------------------- charts (canvas)
function niceTicks(lo, hi, n) {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= n) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function tickFmt(v) {
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(0) : String(+v.toPrecision(6));
}

function fmt(v) {
  if (v === null || v === undefined || !isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e5)) return v.toExponential(2);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

// series: [{x:[], y:[], color, dash, label, width}]; opts: {xLabel, yLabel, log, hlines, cursor, yMax}
function drawChart(canvas, series, opts) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  const large = document.body.classList.contains("large");
  const font = large ? 18 : 12;
  const m = { l: 8 + font * 5, r: 12, t: 10 + font * 1.6 * Math.min(series.length, 8) / 2, b: font * 3.2 };
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  ctx.font = `${font}px system-ui, sans-serif`;
  const xs = series.flatMap((s) => s.x);
  let xMin = Math.min(...xs), xMax = Math.max(...xs);
  if (!isFinite(xMin)) { xMin = 0; xMax = 1; }
  let ys = series.flatMap((s) => s.y.filter((v) => v !== null && isFinite(v)));
  (opts.hlines || []).forEach((h) => ys.push(h.y));
  let yMax = opts.yMax !== undefined ? opts.yMax : Math.max(...ys, 0) * 1.05 || 1;
  let yMin = 0;
  if (opts.log) {
    const pos = ys.filter((v) => v > 0);
    yMax = Math.pow(10, Math.ceil(Math.log10(Math.max(...pos, 1e-12))));
    yMin = Math.max(Math.min(...pos), yMax * 1e-4);
    yMin = Math.pow(10, Math.floor(Math.log10(yMin)));
  }
  const px = (x) => m.l + (x - xMin) / (xMax - xMin || 1) * (W - m.l - m.r);
  const py = opts.log
    ? (y) => H - m.b - (Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin)) * (H - m.t - m.b)
    : (y) => H - m.b - (y - yMin) / (yMax - yMin || 1) * (H - m.t - m.b);
  // grid and ticks
  ctx.strokeStyle = "#e3e3e3"; ctx.fillStyle = "#333"; ctx.lineWidth = 1; ctx.setLineDash([]);
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  niceTicks(xMin, xMax, 8).forEach((v) => {
    ctx.beginPath(); ctx.moveTo(px(v), m.t); ctx.lineTo(px(v), H - m.b); ctx.stroke();
    ctx.fillText(tickFmt(v), px(v), H - m.b + 4);
  });
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  const yt = opts.log
    ? Array.from({ length: Math.round(Math.log10(yMax / yMin)) + 1 }, (_, i) => yMin * Math.pow(10, i))
    : niceTicks(yMin, yMax, 6);
  yt.forEach((v) => {
    ctx.beginPath(); ctx.moveTo(m.l, py(v)); ctx.lineTo(W - m.r, py(v)); ctx.stroke();
    ctx.fillText(tickFmt(v), m.l - 4, py(v));
  });
  ctx.strokeStyle = "#333"; ctx.strokeRect(m.l, m.t, W - m.l - m.r, H - m.t - m.b);
  ctx.textAlign = "center"; ctx.textBaseline = "bottom";
  ctx.fillText(opts.xLabel || "", (m.l + W - m.r) / 2, H - 2);
  ctx.save(); ctx.translate(font, (m.t + H - m.b) / 2); ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle"; ctx.fillText(opts.yLabel || "", 0, 0); ctx.restore();
  // horizontal reference lines (threshold, alarm limit)
  (opts.hlines || []).forEach((h) => {
    if (opts.log && h.y <= 0) return;
    ctx.strokeStyle = h.color || "#777"; ctx.setLineDash([6, 4]); ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(m.l, py(h.y)); ctx.lineTo(W - m.r, py(h.y)); ctx.stroke();
    ctx.setLineDash([]); ctx.fillStyle = h.color || "#777"; ctx.textAlign = "right"; ctx.textBaseline = "bottom";
    ctx.fillText(h.label, W - m.r - 4, py(h.y) - 2);
  });
  // curves, clipped to the plot
  ctx.save(); ctx.beginPath(); ctx.rect(m.l, m.t, W - m.l - m.r, H - m.t - m.b); ctx.clip();
  series.forEach((s) => {
    ctx.strokeStyle = s.color; ctx.setLineDash(s.dash || []); ctx.lineWidth = s.width || 2;
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < s.x.length; i++) {
      const y = s.y[i];
      if (y === null || !isFinite(y) || (opts.log && y <= 0)) { started = false; continue; }
      if (!started) { ctx.moveTo(px(s.x[i]), py(y)); started = true; } else ctx.lineTo(px(s.x[i]), py(y));
    }
    ctx.stroke();
  });
  ctx.restore(); ctx.setLineDash([]);
  if (opts.cursor !== undefined) {
    ctx.strokeStyle = "#E69F00"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(px(opts.cursor), m.t); ctx.lineTo(px(opts.cursor), H - m.b); ctx.stroke();
  }
  // legend: two columns along the top
  ctx.textAlign = "left"; ctx.textBaseline = "middle";
  series.filter((s) => s.label).forEach((s, i) => {
    const col = i % 2, row = Math.floor(i / 2);
    const x = m.l + 8 + col * (W - m.l - m.r) / 2, y = 6 + font * 0.8 + row * font * 1.5;
    ctx.strokeStyle = s.color; ctx.setLineDash(s.dash || []); ctx.lineWidth = s.width || 2;
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 28, y); ctx.stroke(); ctx.setLineDash([]);
    ctx.fillStyle = "#111"; ctx.fillText(s.label, x + 34, y);
  });
  return { px, py };
}

// ---------------------------------------------------------------- helpers
async function postJSON(url, body, signal) {
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal });
  const data = await r.json();
  if (!r.ok) {
    const msg = (data.detail || []).map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`).join("; ");
    throw new Error(msg || `HTTP ${r.status}`);
  }
  return data;
}

function download(name, text, type) {
  const blob = text instanceof Blob ? text : new Blob([text], { type });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = name; a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function debounce(fn, ms) {
  let t = null;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

// ---------------------------------------------------------------- routes page
function fillDrugs() {
  const sel = $("r-drug");
  Object.keys(state.options).forEach((d) => sel.add(new Option(d, d, d === "morphine", d === "morphine")));
  fillModels();
}

function fillModels() {
  const d = state.options[$("r-drug").value];
  const sel = $("r-model"); sel.innerHTML = "";
  Object.keys(d.models).forEach((k) => sel.add(new Option(k, k, k === d.default_model, k === d.default_model)));
  const salt = $("r-salt"); salt.innerHTML = '<option value="">(base)</option>';
  d.salts.forEach((s) => salt.add(new Option(s, s)));
  fillRoutes();
}

function fillRoutes() {
  const d = state.options[$("r-drug").value];
  const routes = d.models[$("r-model").value].routes;
  const box = $("r-routes");
  box.querySelectorAll("label").forEach((l) => l.remove());
  ["iv", "sc", "im", "io", "epidural"].forEach((r) => {
    const label = document.createElement("label");
    const cb = document.createElement("input");
    cb.type = "checkbox"; cb.value = r; cb.id = `r-route-${r}`;
    cb.disabled = !routes.includes(r); cb.checked = routes.includes(r);
    cb.addEventListener("change", refreshRoutes);
    label.append(cb, ` ${r.toUpperCase()}`);
    if (cb.disabled) label.title = "no published data for this route in this model";
    box.append(label);
  });
}

function routesRequest() {
  const dose = $("r-dose").value.trim();
  const scale = parseFloat($("r-scale").value);
  const m = dose.match(/^([0-9.eE+-]+)\s*(.*)$/);
  const scaled = m && scale !== 1 ? `${+(parseFloat(m[1]) * scale).toPrecision(6)} ${m[2]}` : dose;
  return {
    drug: $("r-drug").value, model: $("r-model").value, dose: scaled,
    salt: $("r-salt").value || null, over: $("r-over").value.trim() || null,
    duration: $("r-duration").value, threshold: $("r-threshold").value.trim() || null,
    patient: { age: $("r-age").value, weight: $("r-weight").value, height: $("r-height").value, sex: $("r-sex").value },
    routes: [...document.querySelectorAll("#r-routes input:checked")].map((c) => c.value),
  };
}

async function refreshRoutes() {
  if (state.controller) state.controller.abort();
  state.controller = new AbortController();
  const t0 = performance.now();
  try {
    const data = await postJSON("/classroom/api/routes", routesRequest(), state.controller.signal);
    const t1 = performance.now();
    state.routes = data;
    drawRoutes();
    $("r-error").textContent = "";
    const t2 = performance.now();
    $("r-status").textContent = `computed in ${data.compute_ms.toFixed(0)} ms, round trip ${(t1 - t0).toFixed(0)} ms, drawn in ${(t2 - t1).toFixed(0)} ms`;
    document.body.dataset.routesRedrawMs = (t2 - t0).toFixed(1);
    document.body.dataset.routesVersion = String((+document.body.dataset.routesVersion || 0) + 1);
  } catch (e) {
    if (e.name === "AbortError") return;
    $("r-error").textContent = e.message;
  }
}

function routeSeries(data, withEffect) {
  const out = [];
  Object.entries(data.curves).forEach(([r, c]) => {
    const st = ROUTE_STYLE[r] || { color: "#555", dash: [] };
    out.push({ x: data.time_min.map((t) => t / 60), y: c.plasma, color: st.color, dash: st.dash, label: `${r.toUpperCase()} plasma` });
    if (withEffect && c.effect) out.push({ x: data.time_min.map((t) => t / 60), y: c.effect, color: st.color, dash: [2, 2], width: 1.2, label: "" });
  });
  return out;
}

function drawRoutes() {
  const data = state.routes;
  if (!data) return;
  const hl = data.threshold ? [{ y: data.threshold, label: `threshold ${fmt(data.threshold)} ${data.unit}`, color: "#555" }] : [];
  // linear panel: cap at 5x the median arm peak so slow routes stay readable next to IV/IO spikes
  const peaks = data.table.map((r) => r.cmax).sort((a, b) => a - b);
  const median = peaks[Math.floor(peaks.length / 2)];
  const cap = Math.max(...peaks) > 5 * median ? 5 * median : undefined;
  const yLabel = `${data.drug} plasma [${data.unit.replace("ug", "µg")}]`;
  const cv = $("r-linear");
  drawChart(cv, routeSeries(data, true), { xLabel: "time [h]", yLabel, hlines: hl, yMax: cap });
  if (cap) {  // name every peak that runs off the capped linear panel
    const ctx = cv.getContext("2d");
    const font = document.body.classList.contains("large") ? 18 : 12;
    ctx.font = `${font}px system-ui, sans-serif`; ctx.fillStyle = "#333"; ctx.textAlign = "right"; ctx.textBaseline = "top";
    data.table.filter((r) => r.cmax > cap).forEach((r, i) => {
      ctx.fillText(`${r.route.toUpperCase()} peak ${fmt(r.cmax)} ${data.unit.replace("ug", "µg")} (off scale)`, cv.width - 16, cv.height * 0.45 + i * font * 1.3);
    });
  }
  drawChart($("r-log"), routeSeries(data, false), { xLabel: "time [h]", yLabel: yLabel + " (log)", log: true, hlines: hl });
  const unit = data.unit.replace("ug", "µg");
  const head = $("r-table").tHead, body = $("r-table").tBodies[0];
  head.innerHTML = `<tr><th>route</th><th>F</th><th>Cmax [${unit}]</th><th>Tmax [min]</th><th>AUC [${unit}·h]</th><th>time above threshold [min]</th></tr>`;
  body.innerHTML = "";
  data.table.forEach((r) => {
    const tr = body.insertRow();
    tr.dataset.route = r.route;
    [["route", r.route.toUpperCase()], ["F", fmt(r.F)], ["cmax", fmt(r.cmax)], ["tmax", fmt(r.tmax_min)], ["auc", fmt(r.auc)],
     ["above", r.time_above_min === null ? "—" : fmt(r.time_above_min)]].forEach(([k, v]) => {
      const td = tr.insertCell(); td.textContent = v; td.dataset.col = k;
      if (k === "cmax") td.dataset.value = String(r.cmax);
    });
  });
  if (cap) $("r-status").dataset.capped = "1";
  const cites = $("r-citations"); cites.innerHTML = "";
  data.citations.forEach((c) => { const li = document.createElement("li"); li.textContent = c; cites.append(li); });
}

function routesCSV() {
  const d = state.routes;
  const cols = Object.keys(d.curves);
  let s = "time_min," + cols.map((r) => `${r}.plasma[${d.unit}]`).join(",") + "\n";
  d.time_min.forEach((t, i) => { s += t + "," + cols.map((r) => d.curves[r].plasma[i]).join(",") + "\n"; });
  return s;
}

function routesSVG() {
  const d = state.routes, W = 900, H = 500, m = 60;
  const xs = d.time_min.map((t) => t / 60), xMax = Math.max(...xs);
  const yMax = Math.max(...Object.values(d.curves).flatMap((c) => c.plasma)) * 1.05;
  const X = (x) => m + x / xMax * (W - 2 * m), Y = (y) => H - m - y / yMax * (H - 2 * m);
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="13">`;
  s += `<rect x="${m}" y="${m}" width="${W - 2 * m}" height="${H - 2 * m}" fill="none" stroke="#333"/>`;
  s += `<text x="${W / 2}" y="${H - 15}" text-anchor="middle">time [h]</text>`;
  s += `<text transform="translate(18,${H / 2}) rotate(-90)" text-anchor="middle">${d.drug} plasma [${d.unit}]</text>`;
  Object.entries(d.curves).forEach(([r, c], i) => {
    const st = ROUTE_STYLE[r] || { color: "#555", dash: [] };
    const pts = xs.map((x, k) => `${X(x).toFixed(1)},${Y(c.plasma[k]).toFixed(1)}`).join(" ");
    s += `<polyline fill="none" stroke="${st.color}" stroke-width="2" stroke-dasharray="${st.dash.join(",")}" points="${pts}"/>`;
    s += `<text x="${W - m - 140}" y="${m + 18 + 18 * i}" fill="${st.color}">${r.toUpperCase()} (Cmax ${fmt(d.table[i].cmax)})</text>`;
  });
  const esc = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  s += `<text x="${m}" y="${m - 10}">${esc(d.drug)} ${esc(d.model)}: ${d.amount.toPrecision(4)} ${d.amount_unit} by each route</text>`;
  s += "</svg>";
  s = s.replace("</svg>", d.citations.map((c, i) => `<text x="6" y="${H + 14 + 13 * i}" font-size="10">${esc(c)}</text>`).join("") + "</svg>");
  s = s.replace(`height="${H}"`, `height="${H + 20 + 13 * d.citations.length}"`);
  return s;
}

function routesPNG() {
  const a = $("r-linear"), b = $("r-log");
  const c = document.createElement("canvas");
  c.width = a.width + b.width; c.height = a.height + 60;
  const ctx = c.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  ctx.drawImage(a, 0, 0); ctx.drawImage(b, a.width, 0);
  ctx.fillStyle = "#333"; ctx.font = "10px sans-serif";
  state.routes.citations.slice(0, 4).forEach((t, i) => ctx.fillText(t.slice(0, 220), 6, a.height + 14 + 12 * i));
  return new Promise((res) => c.toBlob(res, "image/png"));
}

// ---------------------------------------------------------------- pump page
function pumpRequest() {
  return {
    kind: $("p-kind").value, syringe: $("p-syringe").value, purge: $("p-purge").checked,
    container: $("p-container").value, rate: $("p-rate").value, drug: $("p-drug").value,
    concentration: $("p-conc").value, fault: $("p-fault").value, fault_at: $("p-at").value,
    occlusion_limit: $("p-limit").value, duration: $("p-duration").value,
  };
}

async function refreshPump() {
  const req = pumpRequest();
  try {
    const data = await postJSON("/classroom/api/pump", req);
    state.pump = data;
    $("p-error").textContent = "";
    $("p-status").textContent = `computed in ${data.compute_ms.toFixed(0)} ms`;
    $("p-time").max = String(data.time_min.length - 1);
    $("p-time").value = String(data.time_min.length - 1);
    drawPump();
    document.body.dataset.pumpVersion = String((+document.body.dataset.pumpVersion || 0) + 1);
  } catch (e) { $("p-error").textContent = e.message; }
}

function drawPump() {
  const d = state.pump;
  if (!d) return;
  const k = +$("p-time").value;
  const now = d.time_min[k];
  const cut = (arr) => arr && arr.map((v, i) => (i <= k ? v : null));
  $("p-time-out").textContent = `${now.toFixed(1)} min`;
  drawChart($("p-flow"), [
    { x: d.time_min, y: cut(d.flow), color: "#0072B2", label: "delivered flow [mL/h]" },
    { x: d.time_min, y: d.rate, color: "#E69F00", dash: [6, 3], label: "programmed rate [mL/h]" },
  ], { xLabel: "time [min]", yLabel: "flow [mL/h]", cursor: now });
  drawChart($("p-pressure"), [{ x: d.time_min, y: cut(d.pressure || d.time_min.map(() => 0)), color: "#D55E00", label: "line pressure [mmHg]" }],
    { xLabel: "time [min]", yLabel: "pressure [mmHg]", hlines: d.occlusion_limit ? [{ y: d.occlusion_limit, label: `alarm limit ${d.occlusion_limit} mmHg`, color: "#c00" }] : [], cursor: now });
  if (d.concentration) {
    const label = d.concentration_label.replace("patient.", "").replace("ug", "µg");
    drawChart($("p-conc-chart"), [{ x: d.time_min, y: cut(d.concentration), color: "#009E73", label }], { xLabel: "time [min]", yLabel: label, cursor: now });
  } else {
    drawChart($("p-conc-chart"), [], { xLabel: "time [min]", yLabel: "no drug (plain fluid)" });
  }
  const list = $("p-alarms"); list.innerHTML = "";
  const active = d.alarms.filter((a) => a.time_min <= now + 1e-9);
  active.forEach((a) => {
    const li = document.createElement("li"); li.className = a.priority;
    li.textContent = `${a.time_min.toFixed(1)} min — ${a.priority.toUpperCase()} priority: ${a.alarm} (${a.message})`;
    list.append(li);
  });
  const rank = { high: 3, medium: 2, low: 1 };
  const top = active.slice().sort((a, b) => (rank[b.priority] || 0) - (rank[a.priority] || 0))[0];
  const banner = $("p-banner");
  if (top && !banner.dataset.silenced) {
    banner.hidden = false; banner.className = `banner ${top.priority}`;
    banner.textContent = `${top.priority.toUpperCase()} PRIORITY ALARM: ${top.alarm} — ${top.message}`;
  } else banner.hidden = true;
}

function play() {
  state.playing = !state.playing;
  $("p-play").textContent = state.playing ? "❚❚ Pause" : "▶ Play";
  const slider = $("p-time");
  if (state.playing && +slider.value >= +slider.max) slider.value = "0";
  const step = () => {
    if (!state.playing) return;
    slider.value = String(Math.min(+slider.max, +slider.value + Math.max(1, Math.round(+slider.max / 300))));
    drawPump();
    if (+slider.value >= +slider.max) { play(); return; }
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}

// ---------------------------------------------------------------- figures page
async function fillFigures() {
  const figs = await (await fetch("/classroom/api/figures")).json();
  const box = $("f-buttons");
  figs.forEach((f) => {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = f.title; b.dataset.name = f.name;
    b.addEventListener("click", () => {
      $("f-figure").hidden = false;
      $("f-img").alt = f.title;
      $("f-img").src = `/classroom/api/figures/${f.name}.png`;
      $("f-caption").innerHTML = "";
      const links = document.createElement("p");
      links.innerHTML = `Download: <a href="/classroom/api/figures/${f.name}.svg">SVG</a> · <a href="/classroom/api/figures/${f.name}.csv">CSV</a>`;
      const src = document.createElement("ol"); src.className = "citations";
      f.sources.forEach((s) => { const li = document.createElement("li"); li.textContent = s; src.append(li); });
      $("f-caption").append(links, src);
    });
    box.append(b);
  });
}

// ---------------------------------------------------------------- tabs and start-up
function showTab(name) {
  ["routes", "pump", "figures"].forEach((t) => {
    $(`tab-${t}`).setAttribute("aria-selected", String(t === name));
    $(`page-${t}`).hidden = t !== name;
  });
  if (name === "pump" && !state.pump) refreshPump();
}

async function start() {
  state.options = await (await fetch("/classroom/api/options")).json();
  fillDrugs();
  const later = debounce(refreshRoutes, 60);
  $("r-drug").addEventListener("change", () => { fillModels(); later(); });
  $("r-model").addEventListener("change", () => { fillRoutes(); later(); });
  ["r-dose", "r-salt", "r-over", "r-duration", "r-threshold", "r-age", "r-weight", "r-height", "r-sex"].forEach((id) => {
    $(id).addEventListener("change", later);
    $(id).addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); later(); } });
  });
  $("r-scale").addEventListener("input", () => { $("r-scale-out").textContent = `${(+$("r-scale").value).toFixed(1)}×`; later(); });
  $("r-csv").addEventListener("click", () => download("routes.csv", routesCSV(), "text/csv"));
  $("r-svg").addEventListener("click", () => download("routes.svg", routesSVG(), "image/svg+xml"));
  $("r-png").addEventListener("click", async () => download("routes.png", await routesPNG()));
  $("r-yaml").addEventListener("click", () => download("routes.yaml", state.routes.scenario, "text/yaml"));
  const pumpLater = debounce(refreshPump, 100);
  ["p-kind", "p-syringe", "p-purge", "p-container", "p-rate", "p-drug", "p-conc", "p-fault", "p-at", "p-limit", "p-duration"].forEach((id) => $(id).addEventListener("change", () => { $("p-banner").dataset.silenced = ""; pumpLater(); }));
  $("p-time").addEventListener("input", drawPump);
  $("p-play").addEventListener("click", play);
  $("p-yaml").addEventListener("click", () => download("pump.yaml", state.pump.scenario, "text/yaml"));
  $("p-banner").addEventListener("click", () => { $("p-banner").dataset.silenced = "1"; drawPump(); });
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT" && e.target.type !== "range" && e.target.type !== "checkbox") return;
    if (e.key === " " && !$("page-pump").hidden) { e.preventDefault(); play(); }
  });
  ["routes", "pump", "figures"].forEach((t, i, all) => {
    $(`tab-${t}`).addEventListener("click", () => showTab(t));
    $(`tab-${t}`).addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        const next = all[(i + (e.key === "ArrowRight" ? 1 : all.length - 1)) % all.length];
        showTab(next); $(`tab-${next}`).focus();
      }
    });
  });
  $("large").addEventListener("change", () => { document.body.classList.toggle("large", $("large").checked); drawRoutes(); drawPump(); });
  fillFigures();
  await refreshRoutes();
}

start();
