// The freight dashboard: reads /api/v1 (the CLI's JSON) and draws the four pillars, spend
// beside outcomes by week, the team leaderboard, unit economics, waste line items with
// drill-down to sessions and commits, behaviours and tokenmaxxing flags. No build step and nothing fetched from elsewhere.
"use strict";

// A token given in the address (#token=... or #/route&token=...) is kept for this tab and
// taken out of the address.
const TOKEN = (() => {
  const match = location.hash.match(/[#&]token=([^&]+)/);
  if (match) {
    sessionStorage.setItem("freight-token", decodeURIComponent(match[1]));
    const rest = location.hash.replace(match[0], match[0].startsWith("#") ? "#" : "");
    history.replaceState(null, "", location.pathname + (rest === "#" ? "#/" : rest));
  }
  return sessionStorage.getItem("freight-token");
})();

const view = document.getElementById("view");
const charts = [];

async function api(path, params) {
  const query = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== ""));
  const url = `/api/v1/${path}${query.toString() ? "?" + query : ""}`;
  const response = await fetch(url, { headers: TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {} });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.message || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

const num = (value) => (value === null || value === undefined ? NaN : Number(value));
const money = (value) => {
  const n = num(value);
  if (!Number.isFinite(n)) return "–";
  return n >= 1000 ? `$${Math.round(n).toLocaleString("en-US")}` : `$${n.toFixed(2)}`;
};
const count = (value) => (Number.isFinite(num(value)) ? Math.round(num(value)).toLocaleString("en-US") : "–");
const ratio = (value, digits = 2) => (Number.isFinite(num(value)) ? num(value).toFixed(digits) : "–");
const percent = (part, whole) => (num(whole) > 0 ? `${((100 * num(part)) / num(whole)).toFixed(1)}%` : "–");
const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const tokensOf = (row) => Object.values(row.tokens || {}).reduce((a, b) => a + num(b), 0);

function since() {
  const days = Number(document.getElementById("period").value);
  if (!days) return undefined;
  const day = new Date(Date.now() - days * 86400000);
  return day.toISOString().slice(0, 10);
}

function outcomeLabel(outcome) {
  if (!outcome) return "";
  if (outcome.kind === "pull_request") return `${esc(outcome.repo)} PR #${esc(outcome.number)}`;
  if (outcome.kind === "commit") return `${esc(outcome.repo)} <span class="mono">${esc(String(outcome.sha).slice(0, 10))}</span>`;
  return esc(JSON.stringify(outcome));
}

function clearCharts() {
  while (charts.length) charts.pop().destroy();
}

function sparkline(canvas, values, color) {
  charts.push(new Chart(canvas, {
    type: "line",
    data: { labels: values.map((_, i) => i), datasets: [{ data: values, borderColor: color, borderWidth: 1.5, pointRadius: 0, fill: false, tension: 0.3 }] },
    options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false }, tooltip: { enabled: false } }, scales: { x: { display: false }, y: { display: false } } },
  }));
}

// The recent weeks against as many before them (up to 4 and 4; the week under way is left
// out): spend up while output is not is the warning.
function drift(trend, asOf) {
  const complete = trend.filter((w) => new Date(w.week).getTime() + 7 * 86400000 <= new Date(asOf).getTime());
  const half = Math.min(4, Math.floor(complete.length / 2));
  if (half < 2) return null;
  const weeks = complete.slice(-2 * half);
  const sum = (list, field) => list.reduce((a, w) => a + num(w[field]), 0);
  const [before, after] = [weeks.slice(0, half), weeks.slice(half)];
  const spend = sum(before, "cost") > 0 ? sum(after, "cost") / sum(before, "cost") - 1 : NaN;
  const output = sum(before, "outcomes") > 0 ? sum(after, "outcomes") / sum(before, "outcomes") - 1 : NaN;
  return { spend, output, half };
}

function pillars(report) {
  const t = report.total;
  const cards = [
    ["cost", "Tokens consumed", money(t.cost), `${count(tokensOf(t))} tokens · ${count(t.calls)} calls · ${count(t.people)} people`, t.cost],
    ["wasted", "Wasted cost", money(t.wasted.total), `${percent(t.wasted.total, t.cost)} of spend · rejected ${money(t.wasted.rejected)} · reverted ${money(t.wasted.reverted)} · never shipped ${money(t.wasted.never_shipped)}`, t.wasted.total],
    ["optimizable", "Optimizable cost", money(t.optimizable_cost), `${percent(t.optimizable_cost, t.cost)} of spend · routing ${money(report.optimizable.routing)} · caching ${money(report.optimizable.caching)} · restarts ${money(report.optimizable.restart)}`, t.optimizable_cost],
    ["output", "Actual output", `${count(t.unit.outcomes)} outcomes`, `${count(t.output.commits)} commits on main (${count(t.output.ai_commits)} AI) · ${count(t.output.merged_prs)} merged PRs · ${count(t.output.tickets)} tickets · ${ratio(t.unit.outcomes_per_dollar, 3)} per $`, t.unit.outcomes],
  ];
  return `<div class="pillars">${cards
    .map(([key, label, figure, detail, value]) => `<div class="pillar" data-pillar="${key}" data-value="${esc(value)}">
      <div class="label">${label}</div><div class="figure">${figure}</div><div class="detail">${detail}</div>
      <div class="spark"><canvas id="spark-${key}"></canvas></div></div>`)
    .join("")}</div>`;
}

function drawSparklines(report) {
  const trend = report.trend || [];
  sparkline(document.getElementById("spark-cost"), trend.map((w) => num(w.cost)), "#3b6fd8");
  sparkline(document.getElementById("spark-wasted"), trend.map((w) => num(w.wasted)), "#d9534f");
  sparkline(document.getElementById("spark-output"), trend.map((w) => num(w.outcomes)), "#2e9e6b");
  const items = (report.optimizable.items || []).map((item) => num(item.saving));
  sparkline(document.getElementById("spark-optimizable"), items.length ? items : [0], "#e0a526");
}

function trendCard(report) {
  const d = drift(report.trend || [], report.as_of);
  let alert = "";
  if (d && Number.isFinite(d.spend)) {
    const rising = d.spend > 0.15 && !(d.output > d.spend / 2);
    const text = `Last ${d.half} full weeks against the ${d.half} before: spend ${d.spend >= 0 ? "+" : ""}${(100 * d.spend).toFixed(0)}%, outcomes ${Number.isFinite(d.output) ? (d.output >= 0 ? "+" : "") + (100 * d.output).toFixed(0) + "%" : "–"}.`;
    alert = `<div class="alert${rising ? "" : " calm"}" data-drift="${rising ? "rising" : "steady"}">${rising ? "Spend is rising while output is not. " : ""}${text}</div>`;
  }
  return `<section class="card"><h2>Spend and outcomes by week</h2>${alert}<div class="chart"><canvas id="trend-chart"></canvas></div></section>`;
}

function drawTrend(report) {
  const trend = report.trend || [];
  charts.push(new Chart(document.getElementById("trend-chart"), {
    data: {
      labels: trend.map((w) => w.week),
      datasets: [
        { type: "bar", label: "spend ($)", data: trend.map((w) => num(w.cost)), backgroundColor: "#a9c1f1", yAxisID: "spend" },
        { type: "bar", label: "wasted ($)", data: trend.map((w) => num(w.wasted)), backgroundColor: "#f0b5b3", yAxisID: "spend" },
        { type: "line", label: "outcomes", data: trend.map((w) => num(w.outcomes)), borderColor: "#2e9e6b", backgroundColor: "#2e9e6b", yAxisID: "outcomes", tension: 0.25 },
      ],
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
      scales: { spend: { position: "left", beginAtZero: true, title: { display: true, text: "$" } }, outcomes: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "outcomes" } } },
    },
  }));
}

function leaderboard(entries) {
  if (!entries || !entries.length) {
    return `<section class="card"><h2>Team leaderboard</h2><p class="muted">No teams to rank in this view (one person's figures rank no team).</p></section>`;
  }
  const top = Math.max(...entries.map((e) => (e.interval ? e.interval[1] : 0)), 1e-9);
  const rows = entries.map((e) => {
    const ci = e.interval ? `<span class="ci" title="95% interval ${ratio(e.interval[0], 3)}–${ratio(e.interval[1], 3)}"><span style="left:${(100 * e.interval[0]) / top}%;width:${(100 * (e.interval[1] - e.interval[0])) / top}%"></span><i style="left:${(100 * num(e.outcomes_per_dollar)) / top}%"></i></span>` : "";
    return `<tr class="${e.not_ranked ? "unranked" : ""}" data-team="${esc(e.team)}" data-opd="${esc(e.outcomes_per_dollar)}">
      <td>${e.rank ?? "–"}</td><td class="text"><a href="#/team/${encodeURIComponent(e.team)}">${esc(e.team)}</a>${e.not_ranked ? `<br><small class="muted">not ranked: ${esc(e.not_ranked)}</small>` : ""}</td>
      <td>${count(e.people)}</td><td>${money(e.cost)}</td><td>${count(e.outcomes)}</td><td>${ratio(e.outcomes_per_dollar, 3)}</td><td>${ci}</td></tr>`;
  });
  return `<section class="card"><h2>Team leaderboard: outcomes per dollar</h2><table id="leaderboard">
    <tr><th>#</th><th class="text">team</th><th>people</th><th>spend</th><th>outcomes</th><th>per $</th><th>95% interval</th></tr>
    ${rows.join("")}</table><p class="muted">Teams are ranked by outcomes per dollar, never by tokens. A team is not ranked when it is too small to say.</p></section>`;
}

function unitEconomics(report, cutLabel) {
  const rows = [report.total, ...report.rows].map((r) => `<tr data-key="${esc(r.key)}"><td class="text">${esc(r.key)}</td>
    <td>${money(r.cost)}</td><td>${money(r.unit.cost_per_merged_pr)}</td><td>${money(r.unit.cost_per_commit)}</td>
    <td>${money(r.unit.cost_per_surviving_line)}</td><td>${money(r.unit.cost_per_ticket)}</td><td>${ratio(r.unit.outcomes_per_dollar, 3)}</td>
    <td>${percent(r.wasted.total, r.cost)}</td><td>${Number.isFinite(num(r.unit.change_failure_rate)) ? (100 * num(r.unit.change_failure_rate)).toFixed(0) + "%" : "–"}</td></tr>`);
  return `<section class="card"><h2>Unit economics by ${cutLabel}</h2><table id="unit">
    <tr><th class="text">${cutLabel}</th><th>spend</th><th>per merged PR</th><th>per commit</th><th>per surviving line</th><th>per ticket</th><th>outcomes per $</th><th>wasted</th><th>change failure</th></tr>
    ${rows.join("")}</table></section>`;
}

function wasteItems(report, filter) {
  const items = report.waste.slice(0, 20).map((item, index) => `<tr data-waste="${index}" data-amount="${esc(item.amount)}">
    <td class="text"><a href="#/waste/${index}${filter ? "/" + encodeURIComponent(filter) : ""}">${esc(item.fate.replace("_", " "))}</a></td>
    <td class="text">${outcomeLabel(item.outcome) || '<span class="muted">no outcome</span>'}</td>
    <td>${money(item.amount)}</td><td>${item.sessions.length}</td></tr>`);
  return `<section class="card"><h2>Waste line items (largest ${Math.min(20, report.waste.length)} of ${report.waste.length})</h2>
    <table id="waste"><tr><th class="text">fate</th><th class="text">outcome</th><th>spend</th><th>sessions</th></tr>${items.join("")}</table></section>`;
}

const share = (value) => (Number.isFinite(num(value)) ? `${(100 * num(value)).toFixed(0)}%` : "–");

function behaviours(report) {
  const b = report.behaviours;
  if (!b) return "";
  const rows = [...(b.by_person && b.by_person.length ? b.by_person : b.by_team), b.total].map((f) => `<tr data-habits="${esc(f.key)}">
    <td class="text">${esc(f.key)}</td><td>${share(f.cache_read_share)}</td><td>${count(f.context_median)}</td><td>${count(f.context_p90)}</td>
    <td>${share(f.restart_clean_share)}</td><td>${share(f.frontier_routine_share)}</td><td>${share(f.verified_share)}</td>
    <td>${share(f.edit_rejection_rate)}</td><td>${share(f.outcome_share)}</td></tr>`);
  const spread = b.spread.filter((s) => s.team === "all").map((s) => `<tr data-spread="${esc(s.habit)}"><td class="text">${esc(s.habit.replaceAll("_", " "))}</td>
    <td>${s.practising} of ${s.people}</td><td>${share(s.share)}</td><td>${ratio(s.p25)}</td><td>${ratio(s.p50)}</td><td>${ratio(s.p75)}</td></tr>`);
  return `<section class="card"><h2>Behaviours: how well people use their agents</h2><table id="behaviours">
    <tr><th class="text"></th><th>cache reads</th><th>context p50</th><th>context p90</th><th>restarted when bloated</th><th>frontier on routine</th><th>tested before commit</th><th>edits rejected</th><th>sessions shipped</th></tr>
    ${rows.join("")}</table>
    <h2 style="margin-top:12px">How widely each habit has spread</h2><table id="spread">
    <tr><th class="text">habit</th><th>people practising</th><th>share</th><th>p25</th><th>p50</th><th>p75</th></tr>${spread.join("")}</table></section>`;
}

function flags(report) {
  const list = report.flags || [];
  if (!list.length) return `<section class="card"><h2>Tokenmaxxing flags</h2><p class="muted" id="flags-none">None in this view.</p></section>`;
  const rows = list.slice(0, 30).map((f) => `<tr data-flag="${esc(f.kind)}" data-severity="${esc(f.severity)}">
    <td class="text">${esc(f.kind.replaceAll("_", " "))}</td><td class="text sev-${esc(f.severity)}">${esc(f.severity)}</td>
    <td class="text">${esc(f.person ?? "(hidden)")}</td><td class="text">${esc(f.team)}</td><td>${money(f.cost)}</td>
    <td class="text">${esc(f.summary)}<br><small class="muted">${f.evidence.filter((e) => e.mark !== null).map((e) => `${esc(e.measure.replaceAll("_", " "))} ${ratio(e.value)} (mark ${e.direction} ${ratio(e.mark)})`).join(" · ")}</small></td></tr>`);
  return `<section class="card"><h2>Tokenmaxxing flags (${list.length})</h2><table id="flags">
    <tr><th class="text">flag</th><th class="text">severity</th><th class="text">person</th><th class="text">team</th><th>spend</th><th class="text">evidence</th></tr>${rows.join("")}</table>
    <p class="muted">Flags are evidence to look at, never part of a ranking.</p></section>`;
}

function header(report, crumbs) {
  document.getElementById("as-of").textContent = `as of ${report.as_of}`;
  document.getElementById("crumbs").innerHTML = crumbs;
}

async function overview(team) {
  const params = { since: since(), team };
  const report = await api("report", { ...params, cut: "team" });
  header(report, team ? `<a href="#/">all teams</a> › ${esc(team)}` : "");
  let people = null;
  if (team) people = await api("report", { ...params, cut: "person" }).catch(() => null);
  const title = team ? `<h1 data-team-page="${esc(team)}">${esc(team)}</h1>` : "";
  view.innerHTML = `${title}${pillars(report)}
    <div class="grid2">${trendCard(report)}${leaderboard(report.leaderboard)}</div>
    ${unitEconomics(report, "team")}
    ${people ? unitEconomics(people, "person") : ""}
    ${wasteItems(report, team)}
    ${behaviours(people || report)}
    ${flags(report)}`;
  drawSparklines(report);
  drawTrend(report);
}

async function wasteDetail(index, team) {
  const report = await api("report", { since: since(), team });
  const item = report.waste[index];
  header(report, `<a href="#/">overview</a> › waste item ${index + 1}`);
  if (!item) {
    view.innerHTML = `<p class="error">No waste item ${index + 1}.</p>`;
    return;
  }
  const links = report.session_links || [];
  const sessions = item.sessions.map((session) => {
    const linked = links.filter((link) => link.session === session);
    const rows = linked.length
      ? linked.map((link) => `<li>${outcomeLabel(link.outcome)} — ${esc(link.evidence.kind)}${link.evidence.trailer ? " " + esc(link.evidence.trailer) : ""}${link.evidence.reasons ? " (" + link.evidence.reasons.map(esc).join(", ") + ")" : ""}, confidence ${ratio(link.confidence)}</li>`).join("")
      : '<li class="muted">no commit or pull request came of it</li>';
    return `<section class="card" data-session="${esc(session)}"><h2>session <span class="mono">${esc(session)}</span></h2><ul>${rows}</ul></section>`;
  });
  view.innerHTML = `<section class="card" id="waste-item" data-amount="${esc(item.amount)}"><h2>${esc(item.fate.replace("_", " "))}: ${money(item.amount)}</h2>
    <p>${outcomeLabel(item.outcome) || "Spend that never reached an outcome."}${item.reverted_by ? ` Reverted by <span class="mono">${esc(item.reverted_by.slice(0, 10))}</span>.` : ""}${item.repo ? ` Repository: ${esc(item.repo)}.` : ""}</p>
    <p class="muted">${item.sessions.length} session(s) spent on it:</p></section>${sessions.join("")}`;
}

async function route() {
  clearCharts();
  view.dataset.state = "loading";
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "team" && parts[1]) await overview(parts[1]);
    else if (parts[0] === "waste" && parts[1] !== undefined) await wasteDetail(Number(parts[1]), parts[2]);
    else await overview(undefined);
    view.dataset.state = "ready";
  } catch (error) {
    view.innerHTML = `<p class="error">${esc(error.message)}${error.status === 401 ? " — open the dashboard with #token=frt_… in the address." : ""}</p>`;
    view.dataset.state = "error";
  }
}

window.addEventListener("hashchange", route);
document.getElementById("period").addEventListener("change", route);
route();
