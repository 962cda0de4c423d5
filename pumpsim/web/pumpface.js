// pumpsim pump face: vanilla JavaScript, no external code, works offline.
// Reads /sessions, streams /sessions/{id}/stream, sends keys as scenario events.
"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("token");
  const q = token ? "?token=" + encodeURIComponent(token) : "";
  const hdrs = token ? { "Authorization": "Bearer " + token } : {};
  const $ = (sel, el) => (el || document).querySelector(sel);
  let session = null, status = null, faces = {}, series = {}, audio = null, lastTone = 0;
  const PRIORITY = { high: 3, medium: 2, low: 1 };
  const MAXPTS = 600;

  async function api(method, path, body) {
    const r = await fetch(path + q, { method, headers: { "Content-Type": "application/json", ...hdrs },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let data = null; try { data = JSON.parse(text); } catch (e) { data = text; }
    if (!r.ok) throw { status: r.status, data };
    return data;
  }
  function explain(err) {
    const d = err.data && err.data.detail;
    if (Array.isArray(d)) return d.map(x => typeof x === "string" ? x : (x.loc || []).slice(1).join(".") + ": " + x.msg).join("; ");
    return (d || JSON.stringify(err.data || err)) + "";
  }
  function hms(s) {
    if (s === null || s === undefined) return "--:--:--";
    s = Math.max(0, Math.round(s));
    const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    return String(h).padStart(2, "0") + ":" + String(m).padStart(2, "0") + ":" + String(sec).padStart(2, "0");
  }
  const num = (v, d, unit) => v === null || v === undefined ? "--" : v.toFixed(d) + " " + unit;

  function command(pump, cmd, article) {
    let body = { type: cmd, pump: pump };
    if (cmd === "clinician_bolus") body.dose = $(".bolus-dose", article).value;
    if (cmd === "program") body.program = [{ mode: "continuous", rate: $(".prog-rate", article).value,
                                              vtbi: $(".prog-vtbi", article).value }];
    if (cmd === "occlusion") body.side = "downstream";
    const reply = $(".reply", article);
    reply.textContent = "";
    api("POST", "/sessions/" + session + "/commands", body)
      .then(r => { reply.textContent = cmd + " at " + hms(r.applied_at_s); })
      .catch(e => { reply.textContent = "refused: " + explain(e); });
  }

  function pumpArticle(face) {
    let art = document.getElementById("pump-" + face.id);
    if (art) return art;
    art = $("#pump-template").content.firstElementChild.cloneNode(true);
    art.id = "pump-" + face.id;
    art.dataset.pump = face.id;
    art.querySelectorAll("button[data-cmd]").forEach(b => {
      b.dataset.pump = face.id;
      b.addEventListener("click", () => command(face.id, b.dataset.cmd, art));
    });
    $("#pumps").appendChild(art);
    return art;
  }

  function showFaces(pumps) {
    for (const f of pumps) {
      faces[f.id] = f;
      const art = pumpArticle(f);
      $(".pid", art).textContent = "Pump " + f.id;
      $(".drug", art).textContent = f.drug + (f.concentration ? " " + f.concentration : "") + " · " + f.route;
      const st = $(".state", art); st.textContent = f.state; st.className = "state " + f.state;
      $(".rate", art).textContent = num(f.rate_mL_h, 2, "mL/h");
      $(".vtbi", art).textContent = num(f.vtbi_mL, 1, "mL");
      $(".infused", art).textContent = num(f.infused_mL, 2, "mL");
      $(".remaining", art).textContent = hms(f.time_remaining_s);
    }
    showBanner();
  }

  function showBanner() {
    let top = null;
    for (const f of Object.values(faces)) for (const a of f.alarms) {
      const cand = { ...a, pump: f.id };
      if (!top || PRIORITY[a.priority] > PRIORITY[top.priority]) top = cand;
    }
    const b = $("#alarm-banner");
    if (!top) { b.className = "alarm-none"; $("#alarm-text").textContent = "no alarm"; b.dataset.priority = ""; return; }
    b.className = "alarm-" + top.priority + (top.silenced ? " silenced" : "");
    b.dataset.priority = top.priority; b.dataset.alarm = top.alarm; b.dataset.pump = top.pump;
    $("#alarm-text").textContent = top.priority.toUpperCase() + " · pump " + top.pump + ": " +
      top.alarm.replace(/_/g, " ") + (top.message ? " (" + top.message + ")" : "");
    if (!top.silenced) sound(top.priority);
  }

  // Audible pattern after the pulse counts of docs/references.md [IEC60601-1-8]: high 10 pulses (3+2, 3+2), medium 3, low 1.
  function sound(priority) {
    if (!$("#sound").checked) return;
    const now = performance.now();
    const every = { high: 5000, medium: 10000, low: 20000 }[priority];
    if (now - lastTone < every) return;
    lastTone = now;
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    const gaps = { high: [0, .25, .5, 1.0, 1.25, 2.0, 2.25, 2.5, 3.0, 3.25], medium: [0, .3, .6], low: [0] }[priority];
    const f = { high: 880, medium: 660, low: 523 }[priority];
    for (const g of gaps) {
      const o = audio.createOscillator(), v = audio.createGain();
      o.frequency.value = f; o.type = "square"; v.gain.value = 0.08;
      o.connect(v).connect(audio.destination);
      o.start(audio.currentTime + g); o.stop(audio.currentTime + g + 0.15);
    }
  }

  function addPoints(t, metrics) {
    for (const m of metrics) {
      if (typeof m.value !== "number") continue;
      const s = series[m.name] || (series[m.name] = []);
      s.push([t, m.value]); if (s.length > MAXPTS) s.shift();
    }
  }
  const COLORS = ["#6fdc7a", "#4fb3ff", "#ffb347", "#e57cff", "#ff6b6b", "#f0e68c"];
  function draw(id, match) {
    const c = document.getElementById(id), g = c.getContext("2d");
    g.clearRect(0, 0, c.width, c.height);
    const names = Object.keys(series).filter(match);
    let t0 = Infinity, t1 = -Infinity, y1 = 1e-9;
    for (const n of names) for (const [t, v] of series[n]) { t0 = Math.min(t0, t); t1 = Math.max(t1, t); y1 = Math.max(y1, v); }
    if (!names.length || t1 <= t0) return;
    y1 *= 1.1;
    g.font = "11px sans-serif";
    names.forEach((n, i) => {
      g.strokeStyle = g.fillStyle = COLORS[i % COLORS.length]; g.beginPath();
      series[n].forEach(([t, v], k) => {
        const x = 40 + (t - t0) / (t1 - t0) * (c.width - 50), y = c.height - 15 - v / y1 * (c.height - 25);
        k ? g.lineTo(x, y) : g.moveTo(x, y);
      });
      g.stroke(); g.fillText(n, 45, 12 + 12 * i);
    });
    g.fillStyle = "#8aa0b0"; g.fillText(y1.toPrecision(3), 2, 12); g.fillText("0", 2, c.height - 15);
    g.fillText(hms(t0), 40, c.height - 2); g.fillText(hms(t1), c.width - 60, c.height - 2);
  }
  function drawAll() {
    draw("chart-flow", n => /^pump\.[^.]+\.flow\[/.test(n));
    draw("chart-pressure", n => /^pump\.[^.]+\.pressure\[/.test(n));
    draw("chart-conc", n => /^patient\.[^.]+\.plasma\[/.test(n));
  }

  function showStatus(s) {
    status = s;
    $("#simtime").textContent = hms(s.sim_time_s);
    $("#mode").textContent = s.finished ? "finished" : s.mode === "lockstep" ? "lock-step" : s.paused ? "paused" : s.speed + "×";
    $("#lag").textContent = s.mode === "paced" ? "lag " + s.lag_wall_s.toFixed(2) + " s" : "";
    $("#pause").textContent = s.paused ? "resume" : "pause";
    if (s.speed) $("#speed").value = String(s.speed);
    $("#status").textContent = "session " + s.id + " · " + s.scenario + " · seed " + s.seed + " · inputs " + s.inputs;
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/sessions/" + session + "/stream" + q);
    ws.onmessage = ev => {
      const m = JSON.parse(ev.data);
      if (m.type === "metrics") { showFaces(m.pumps); addPoints(m.sim_time_s, m.metrics); }
      else if (m.type === "status") showStatus(m);
    };
    ws.onclose = ev => { $("#status").textContent = "stream closed: " + (ev.reason || ev.code) + " — reconnecting"; setTimeout(connect, 1000); };
  }

  $("#silence").addEventListener("click", () => {
    const pump = $("#alarm-banner").dataset.pump;
    if (pump) command(pump, "silence", document.getElementById("pump-" + pump));
  });
  $("#speed").addEventListener("change", e => api("POST", "/sessions/" + session + "/pace", { speed: Number(e.target.value) }).then(showStatus));
  $("#pause").addEventListener("click", () => api("POST", "/sessions/" + session + "/pace", { paused: !(status && status.paused) }).then(showStatus));

  async function main() {
    let list = await api("GET", "/sessions");
    if (!list.length) list = [await api("POST", "/sessions", {})];
    session = list[0].id;
    const s = await api("GET", "/sessions/" + session);
    showStatus(s); showFaces(s.pumps);
    connect();
    setInterval(drawAll, 500);
  }
  main().catch(e => { $("#status").textContent = "cannot reach the server: " + explain(e); });
})();
