// The playground page: draws /api/state and sends each click as one journey step.
"use strict";
let view = null;

async function call(url, body) {
  const response = await fetch(url, body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  });
  const data = await response.json();
  show(data);
  return data;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function words(w) {
  for (const [key, text] of Object.entries(w)) {
    const node = document.getElementById("w-" + key);
    if (node) node.textContent = text;
  }
  document.getElementById("title").textContent = w.title;
  document.getElementById("start").textContent = w.start;
  document.getElementById("save").textContent = w.save;
  document.documentElement.lang = view.lang;
}

function personOf(role) {
  const input = document.querySelector(`.role[data-role="${role}"] input.person`);
  return input && input.value && input.value !== `${role}-1` ? input.value : undefined;
}

function show(data) {
  view = data;
  words(data.words);
  document.getElementById("source").textContent = data.source;
  const message = document.getElementById("message");
  message.hidden = !data.error;
  message.textContent = data.error || "";
  const select = document.getElementById("pathway");
  const chosen = select.value || (data.case && data.case.pathway);
  select.replaceChildren(...data.pathways.map(p => el("option", {value: p.id}, `${p.title} [${p.id}]`)));
  if (chosen) select.value = chosen;
  const errors = document.getElementById("errors");
  errors.hidden = data.problems.length === 0;
  document.getElementById("problems").replaceChildren(...data.problems.map(p => el("li", {class: "problem"},
    el("div", {class: "where"}, `${p.file}${p.line ? ":" + p.line : ""} · ${p.path || ""}`),
    el("div", {class: "text"}, p.message + (p.hint ? ` (${p.hint})` : "")),
    el("pre", {}, ...p.snippet.map(s => el("span", {class: s.bad ? "bad" : "ok"}, `${String(s.n).padStart(4)}  ${s.text}\n`))))));
  const main = document.getElementById("case");
  main.hidden = !data.case;
  if (!data.case) return;
  const c = data.case;
  document.getElementById("case-title").textContent = `${c.title} [${c.pathway}]`;
  const state = document.getElementById("state");
  state.textContent = `${c.state_name} [${c.state}]`;
  state.dataset.state = c.state;
  document.getElementById("clock").textContent = c.now.replace("T", " ").slice(0, 16);
  document.getElementById("due").textContent = c.due ? c.due.replace("T", " ").slice(0, 16) : "-";
  const pending = document.getElementById("pending");
  pending.hidden = !c.pending;
  pending.textContent = c.pending ? `${data.words.pending}: ${c.pending.trigger} (${c.pending.by}; ${c.pending.approvals.join(", ") || "-"})` : "";
  document.getElementById("cases").replaceChildren(...c.cases.map(k => el("li", {},
    el("button", {type: "button", "data-follow": k.pathway, onclick: () => call("/api/follow", {pathway: k.pathway})},
      `${k.focused ? "▶ " : ""}${k.pathway}: ${k.state}`))));
  const factRole = document.getElementById("fact-role");
  const previous = factRole.value;
  factRole.replaceChildren(...c.roles.map(r => el("option", {value: r.id}, `${r.name} (${r.sector_name})`)));
  if (previous && c.roles.some(r => r.id === previous)) factRole.value = previous;
  // Facts are mostly the citizen's own statements (consent, wishes); staff recording them give a reason.
  else if (c.roles.length > 1) factRole.value = c.roles.find(r => r.citizen)?.id || c.roles.find(r => r.sector !== "citizen")?.id || c.roles[0].id;
  document.getElementById("facts").replaceChildren(...c.facts.map(f => {
    const box = el("input", {type: "checkbox", "data-fact": f.id, onchange: e =>
      call("/api/act", {by: factRole.value, person: personOf(factRole.value), set: {[f.id]: e.target.checked},
                        reason: "recorded in the playground"})});
    box.checked = f.value;
    return el("li", {}, el("label", {}, box, ` ${f.label} [${f.id}]`));
  }));
  const persons = {};
  for (const node of document.querySelectorAll(".role input.person")) persons[node.dataset.role] = node.value;
  document.getElementById("roles").replaceChildren(...c.roles.map(r => el("div", {class: "role", "data-role": r.id},
    el("h4", {}, `${r.name} `, el("span", {class: "sector"}, `(${r.sector_name})`)),
    el("label", {}, `${data.words.as} `, el("input", {class: "person", "data-role": r.id, value: persons[r.id] || `${r.id}-1`})),
    ...r.options.map(o => {
      const act = o.kind === "approve" ? {approve: o.trigger} : {do: o.trigger};
      const row = el("div", {class: "option " + (o.allowed ? "allowed" : "not-allowed"), "data-trigger": o.trigger, "data-kind": o.kind},
        el("button", {type: "button", "data-trigger": o.trigger, "data-kind": o.kind, title: o.dest,
          onclick: () => call("/api/act", {by: r.id, person: personOf(r.id), ...act})},
          (o.kind === "approve" ? `✓ ${data.words.approve}: ` : "") + `${o.label} → ${o.dest}`));
      if (o.kind === "approve" && o.allowed) {
        row.append(" ", el("button", {type: "button", class: "refuse", "data-trigger": o.trigger,
          onclick: () => call("/api/act", {by: r.id, person: personOf(r.id), refuse: o.trigger, reason: "refused in the playground"})},
          `✗ ${data.words.refuse}`));
      }
      if (!o.allowed) {
        row.append(el("span", {class: "why-not", title: o.why_not.map(w => w.message).join("; ")},
          `${data.words.why_not}: ` + o.why_not.map(w => `${w.words} (${w.code})`).join("; ")));
      }
      return row;
    }))));
  document.getElementById("history").replaceChildren(...c.history.map(h => el("li", {class: h.refused ? "refused" : "done"},
    `${h.did} — ${h.happened.join("; ")}`)));
  document.getElementById("saved").textContent = data.saved || "";
  document.getElementById("diagram").innerHTML = c.diagram;
}

document.getElementById("start").addEventListener("click", () =>
  call("/api/start", {pathway: document.getElementById("pathway").value}));
document.getElementById("wait").addEventListener("click", () =>
  call("/api/wait", {wait: document.getElementById("wait-duration").value}));
document.getElementById("save").addEventListener("click", () => call("/api/save", {}));

// Editing a definition file reloads the page (the server notices the change).
setInterval(async () => {
  if (view === null) return;
  const response = await fetch("/api/version");
  const data = await response.json();
  if (data.version !== view.version) location.reload();
}, 700);

call("/api/state");
