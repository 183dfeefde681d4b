// quobyte-mesos dashboard: polls /v1/overview and /v1/events and redraws
// what changed. No framework, no build step, nothing loaded from elsewhere.
"use strict";

(() => {
  const POLL_MS = 2000;
  const MAX_EVENTS = 300;

  const state = {
    ov: null,          // the last overview
    fingerprint: "",   // the last overview without its time: redraw only on a change
    offset: 0,         // server clock minus this browser's, in ms
    eventsLog: "",     // the log they are of (each instance, each start, has its own)
    eventsAfter: 0,    // the newest event's seq we have
    events: [],        // newest first
    expanded: new Set(), // hosts whose details are open
    connected: null,   // how the last poll went (null: none yet)
  };

  const $ = (id) => document.getElementById(id);

  // el builds an element: el("td", {class: "x", "data-kind": "data"}, "text", child, ...).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const serverNow = () => Date.now() + state.offset;
  const zeroTime = (t) => !t || t.startsWith("0001-01-01");

  function duration(ms) {
    let s = Math.max(0, Math.round(ms / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    if (d) return `${d}d ${h}h`;
    if (h) return `${h}h ${m}m`;
    if (m) return `${m}m ${s}s`;
    return `${s}s`;
  }

  // ago is a <time> that the ticker keeps saying "3m 2s ago".
  function ago(iso) {
    if (zeroTime(iso)) return el("span", {text: "never"});
    const t = el("time", {datetime: iso, title: new Date(iso).toString(), "data-ago": iso});
    t.textContent = duration(serverNow() - Date.parse(iso)) + " ago";
    return t;
  }

  function clock(iso) {
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  const badge = (kind, text) => el("span", {class: "badge " + kind, text});
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  // --- polling ---

  async function getJSON(path) {
    const res = await fetch(path, {cache: "no-store", headers: {Accept: "application/json"}});
    const text = await res.text();
    let body = null;
    try { body = JSON.parse(text); } catch (e) { body = null; }
    if (!res.ok) {
      const why = body && body.error ? body.error : text.trim().slice(0, 300);
      throw new Error(`${path}: ${res.status} ${res.statusText}${why ? ": " + why : ""}`);
    }
    if (body === null) throw new Error(`${path}: not JSON`);
    return {body, leader: res.headers.get("X-Quobyte-Mesos-Leader")};
  }

  async function poll() {
    try {
      const {body: ov, leader} = await getJSON("v1/overview");
      state.offset = Date.parse(ov.time) - Date.now();
      const {time, ...rest} = ov;
      const fp = JSON.stringify(rest);
      if (fp !== state.fingerprint) {
        state.fingerprint = fp;
        state.ov = ov;
        render(ov);
      }
      renderInstance(leader);
      await pollEvents();
      connection(true, `Live: updated at ${clock(new Date().toISOString())}, every ${POLL_MS / 1000} s.`);
    } catch (err) {
      connection(false, `Not updating: ${err.message}` + (state.ov ? " (showing the last data received)" : ""));
    }
    setTimeout(poll, POLL_MS);
  }

  // connection shows how the last poll went; a screen reader hears only
  // when that changes, not every poll.
  function connection(ok, text) {
    const conn = $("conn");
    if (ok !== state.connected) {
      $("announce").textContent = ok ? "The dashboard is live." : text;
      state.connected = ok;
    }
    conn.className = ok ? "" : "error";
    conn.textContent = text;
  }

  async function pollEvents() {
    let {body: page} = await getJSON(`v1/events?after=${state.eventsAfter}&limit=${MAX_EVENTS}`);
    const otherLog = page.log !== state.eventsLog;
    if (otherLog) { // the framework restarted, or another instance leads: start again
      state.eventsLog = page.log;
      state.events = [];
      if (state.eventsAfter !== 0) {
        state.eventsAfter = 0;
        ({body: page} = await getJSON(`v1/events?after=0&limit=${MAX_EVENTS}`));
      }
    }
    if (!otherLog && page.events.length === 0) return;
    state.eventsAfter = page.last;
    state.events = page.events.slice().reverse().concat(state.events).slice(0, MAX_EVENTS);
    renderEvents();
  }

  // --- rendering ---

  function render(ov) {
    document.title = `${ov.converged && ov.healthy ? "✓" : "⚠"} ${ov.spec.framework || "quobyte-mesos"}`;
    $("framework").textContent = ov.spec.framework ? `— ${ov.spec.framework}` : "";
    renderSummary(ov);
    renderRollout(ov);
    renderGrid(ov);
    renderPlan(ov);
  }

  function renderInstance(leaderURL) {
    const p = $("instance");
    if (leaderURL) {
      p.hidden = false;
      p.textContent = `This page is served by a standby instance. What it shows comes from the leader, ${leaderURL}.`;
    } else {
      p.hidden = true;
    }
  }

  function renderSummary(ov) {
    const dl = $("summary");
    const rows = [];
    const add = (term, ...desc) => rows.push(el("dt", {text: term}), el("dd", {}, ...desc));
    const sp = ov.spec;
    add("Spec", `version ${sp.version} · state ${sp.state} · hash `, el("code", {text: sp.hash}), ` · ${sp.file}`);
    add("Converged", ov.converged ? badge("ok", "yes") : badge("warn", "no"), " ", ov.plan_line);
    const c = ov.counts;
    add("Services",
      badge(c.unhealthy + c.missing === 0 ? "ok" : "idle", `${c.healthy} healthy`), " ",
      badge(c.unhealthy ? "bad" : "idle", `${c.unhealthy} unhealthy`), " ",
      badge(c.missing ? "warn" : "idle", `${c.missing} missing`));
    add("Hosts", `${c.hosts} agents, `, c.unreachable ? badge("bad", `${c.unreachable} unreachable`) : "none unreachable");
    const sub = ov.subscription;
    if (!sub.state) {
      add("Mesos", badge("warn", "nothing observed"), " (this instance does not act: see the leader)");
    } else {
      add("Mesos", badge(sub.state === "subscribed" ? "ok" : "bad", sub.state),
        sub.master ? " to " : "", sub.master ? el("span", {class: "mono", text: sub.master}) : "",
        " as framework ", el("code", {text: sub.framework_id || "(none yet)"}),
        zeroTime(sub.since) ? "" : [" since ", ago(sub.since)],
        sub.reconciled ? "" : " · reconciling",
        sub.resubscriptions ? ` · ${sub.resubscriptions} resubscriptions` : "");
    }
    if (ov.ha) {
      const ha = ov.ha;
      const lead = ha.leader ? ha.leader.url : "no leader known";
      add("Leader", el("span", {class: "mono", text: lead}),
        ` · ${(ha.members || []).length} instances`,
        (ha.spec_mismatch || []).length ? " · " : "",
        (ha.spec_mismatch || []).length ? badge("warn", `${ha.spec_mismatch.length} run another spec`) : "");
    }
    const rl = ov.last_reload;
    add("Last reload", rl.ok ? badge("ok", "ok") : badge("bad", "failed"), " ", ago(rl.at),
      rl.ok ? "" : ` · the spec in force stays ${rl.spec_hash}`);
    dl.replaceChildren(...rows);

    const box = $("reload");
    box.replaceChildren();
    if (!rl.ok && rl.diagnostics) {
      box.append(el("h3", {class: "small", text: `The last reload of ${rl.file} was refused:`}),
        el("pre", {class: "diag", id: "reload-diagnostics", text: rl.diagnostics}));
    } else if (rl.changes) {
      box.append(el("details", {}, el("summary", {text: "What the last reload changed"}), el("pre", {class: "changes", text: rl.changes})));
    }
  }

  function renderRollout(ov) {
    const box = $("rollout");
    if (!ov.rollouts.length) {
      box.replaceChildren(el("p", {text: "No rollout in progress: every service runs the spec's config."}));
      return;
    }
    box.replaceChildren(...ov.rollouts.map((r) => el("div", {class: "rollout"},
      el("p", {},
        el("strong", {text: r.kind}), ": ",
        el("progress", {max: r.total, value: r.replaced, "aria-label": `${r.kind} replaced`}),
        `${r.replaced} of ${r.total} replaced `,
        r.paused ? badge("bad", "paused") : badge("warn", "in progress"),
        r.change ? ` ${r.change}` : "",
        r.at_a_time ? ` · ${r.at_a_time === 1 ? "one" : r.at_a_time} at a time` : ""),
      r.reasons && r.reasons.length ? el("ul", {}, r.reasons.map((why) => el("li", {text: why}))) : null)));
  }

  // --- the hosts x kinds grid ---

  const stateWords = {
    healthy: "running, health check passing",
    running: "running, health not checked yet",
    unhealthy: "running, failing its health check",
    "crash-looping": "failed again and again (3 or more restarts)",
    starting: "launched, not running yet",
    stopping: "being stopped by the framework",
    unreachable: "its agent is out of sight: unknown, not gone",
    backoff: "failed; launched again when the time shown has passed",
    blocked: "wanted, but the plan cannot launch it (see the plan)",
    waiting: "a launch is planned, but no offer of the agent fits it yet",
    missing: "wanted: a launch is planned",
    none: "not wanted on this host",
  };

  function cellLabel(c) {
    if (c.state === "backoff") {
      return "backoff " + duration(Date.parse(c.until) - serverNow());
    }
    if (c.problem === "crash-looping") return "crash-looping";
    if (c.state === "none") return "not wanted";
    return c.state;
  }

  function cellClass(c) {
    return c.problem === "crash-looping" ? "crash-looping" : c.state;
  }

  function hostFlags(h) {
    const f = new Set();
    if (h.problem) f.add("problem");
    if (!h.reachable) f.add("unreachable");
    if (!h.probed) f.add("unprobed");
    for (const c of h.cells) {
      if (["unhealthy", "starting", "unreachable"].includes(c.state) || c.problem === "crash-looping") f.add("unhealthy");
      if (["missing", "blocked", "backoff", "waiting"].includes(c.state)) f.add("missing");
      if (c.outdated) f.add("outdated");
    }
    return [...f].join(" ");
  }

  function devicesText(h) {
    if (!h.probed) return "no prober report";
    if (!h.devices.length) return "none";
    const names = {DIR_DEVICE: "registry", METADATA_DEVICE: "metadata", DATA_DEVICE: "data"};
    return h.devices.map((d) => `${d.count} ${names[d.type] || d.type}`).join(", ");
  }

  function renderGrid(ov) {
    const table = $("grid");
    table.tHead.replaceChildren(el("tr", {},
      el("th", {scope: "col", text: "Host"}),
      el("th", {scope: "col", text: "Reachable"}),
      el("th", {scope: "col", text: "Devices found"}),
      ov.kinds.map((k) => el("th", {scope: "col", text: k}))));
    const rows = [];
    for (const h of ov.hosts) {
      const open = state.expanded.has(h.agent_id);
      const detailsId = "details-" + h.agent_id.replace(/[^A-Za-z0-9_-]/g, "_");
      const row = el("tr", {"data-host": h.hostname, "data-name": h.hostname.toLowerCase(), "data-flags": hostFlags(h), class: h.problem ? "problem" : ""},
        el("th", {scope: "row"}, el("button", {type: "button", class: "host", "aria-expanded": String(open), "aria-controls": detailsId,
          text: h.hostname, onclick: (e) => toggleHost(h.agent_id, e.currentTarget)})),
        el("td", {}, h.reachable ? "yes" : el("span", {class: "st st-unreachable", text: "no"})),
        el("td", {class: h.probed ? "" : "small", text: devicesText(h)}),
        h.cells.map((c, i) => el("td", {"data-kind": ov.kinds[i], "data-state": c.state, "data-problem": c.problem || null,
          title: [stateWords[cellClass(c)], c.task_id, c.detail].filter(Boolean).join("\n")},
        c.state === "none" ? el("span", {class: "st st-none"}, el("span", {class: "sr", text: "not wanted"}))
          : el("span", {class: "st st-" + cellClass(c), "data-until": c.state === "backoff" ? c.until : null}, cellLabel(c)),
        c.outdated ? el("span", {class: "old", title: "runs an old config: the rollout replaces it", text: "old config"}) : null)));
      rows.push(row);
      const details = el("tr", {class: "details", id: detailsId, hidden: !open, "data-details-of": h.hostname},
        el("td", {colspan: 3 + ov.kinds.length}, hostDetails(ov, h)));
      rows.push(details);
    }
    table.tBodies[0].replaceChildren(...rows);
    $("legend").replaceChildren(...Object.entries(stateWords).map(([s, words]) =>
      el("li", {}, el("span", {class: "st st-" + s, text: s === "none" ? "not wanted" : s}), " ", words)),
    el("li", {}, el("span", {class: "old", text: "old config"}), " runs an old config: the rollout replaces it"));
    applyFilter();
  }

  function hostDetails(ov, h) {
    const items = [el("li", {}, `Agent `, el("code", {text: h.agent_id}), h.probed ? [" · prober reported ", ago(h.probed_at)] : " · no prober report yet",
      ` · devices: ${devicesText(h)}`)];
    h.cells.forEach((c, i) => {
      if (c.state === "none" && !c.problem) return;
      items.push(el("li", {}, el("strong", {text: ov.kinds[i]}), ": ", cellLabel(c),
        c.outdated ? " (old config)" : "",
        c.task_id ? [" · task ", el("code", {text: c.task_id})] : "",
        c.detail ? ` · ${c.detail}` : ""));
    });
    return el("ul", {}, items);
  }

  function toggleHost(agentID, button) {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    $(button.getAttribute("aria-controls")).hidden = !open || button.closest("tr").hidden;
    if (open) state.expanded.add(agentID); else state.expanded.delete(agentID);
  }

  function applyFilter() {
    const words = $("filter").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const show = $("show").value;
    let shown = 0, total = 0;
    for (const row of $("grid").tBodies[0].rows) {
      if (row.classList.contains("details")) continue;
      total++;
      const name = row.dataset.name;
      const flags = row.dataset.flags.split(" ");
      const visible = (words.length === 0 || words.some((w) => name.includes(w))) && (show === "all" || flags.includes(show));
      row.hidden = !visible;
      const details = row.nextElementSibling;
      const button = row.querySelector("button.host");
      details.hidden = !visible || button.getAttribute("aria-expanded") !== "true";
      if (visible) shown++;
    }
    $("shown").textContent = shown === total ? `${total} hosts` : `${shown} of ${total} hosts shown`;
  }

  // --- the plan ---

  // itemsTable lists blocked items or waiting launches.
  function itemsTable(id, items, total, caption, why) {
    const more = total - items.length;
    return el("div", {class: "scroll"}, el("table", {id},
      el("caption", {text: caption + (more > 0 ? ` The first ${items.length} are listed.` : "")}),
      el("thead", {}, el("tr", {}, el("th", {scope: "col", text: "Host"}), el("th", {scope: "col", text: "Service"}), el("th", {scope: "col", text: why}))),
      el("tbody", {}, items.map((b) => el("tr", {}, el("td", {text: b.host || "(any host)"}), el("td", {text: b.kind}), el("td", {class: "reason", text: b.reason}))))));
  }

  function renderPlan(ov) {
    $("plan-line").textContent = ov.plan_line;
    const parts = [];
    parts.push(ov.blocked.length
      ? itemsTable("blocked-table", ov.blocked, ov.blocked_total, `Blocked: ${plural(ov.blocked_total, "item", "items")} the plan wants but cannot do yet, with the reason.`, "Reason")
      : el("p", {text: "Nothing is blocked."}));
    if (ov.waiting.length) {
      parts.push(itemsTable("waiting-table", ov.waiting, ov.waiting_total, `Waiting for resources: ${plural(ov.waiting_total, "launch", "launches")} that no offer of the agent fits yet.`, "What falls short"));
    }
    $("blocked").replaceChildren(...parts);
    const plan = ov.plan;
    let text = plan ? plan.text : "No plan yet.";
    if (plan && plan.text_lines > plan.text.split("\n").length - 1) {
      text += `\n… ${plan.text_lines} lines in all: quobyte-mesos plan --server prints the whole plan.\n`;
    }
    $("plan-text").textContent = text;
  }

  // --- events ---

  const eventWords = {"apply-error": "apply error", "reload-failed": "reload failed"};

  function renderEvents() {
    const body = $("events").tBodies[0];
    if (!state.events.length) {
      body.replaceChildren(el("tr", {}, el("td", {colspan: 5, text: "Nothing has happened yet."})));
      return;
    }
    body.replaceChildren(...state.events.map((e) => el("tr", {class: e.warning ? "warning" : "", "data-type": e.type},
      el("td", {}, el("time", {datetime: e.time, title: new Date(e.time).toString(), text: clock(e.time)})),
      el("td", {}, e.warning ? "⚠ " : "", eventWords[e.type] || e.type),
      el("td", {text: e.host || ""}),
      el("td", {text: e.kind || ""}),
      el("td", {}, e.text,
        e.reason ? el("span", {class: "msg", text: "reason: " + e.reason}) : null,
        message(e.message)))));
  }

  // message shows an event's message; a long one (a refused reload's
  // diagnostics) folded after its first line.
  function message(text) {
    if (!text) return null;
    const lines = text.trimEnd().split("\n");
    if (lines.length <= 3) return el("span", {class: "msg", text});
    return el("details", {class: "msg"}, el("summary", {text: lines[0]}), el("span", {class: "msg", text: lines.slice(1).join("\n")}));
  }

  // --- the second hand: countdowns and "ago" ---

  function tick() {
    for (const t of document.querySelectorAll("[data-ago]")) {
      t.textContent = duration(serverNow() - Date.parse(t.dataset.ago)) + " ago";
    }
    for (const s of document.querySelectorAll("[data-until]")) {
      s.textContent = "backoff " + duration(Date.parse(s.dataset.until) - serverNow());
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("filter").addEventListener("input", applyFilter);
    $("show").addEventListener("change", applyFilter);
    $("filters").addEventListener("submit", (e) => e.preventDefault());
    renderEvents();
    setInterval(tick, 1000);
    poll();
  });
})();
