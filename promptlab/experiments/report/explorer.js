// The run explorer of a promptlab report: one row per task, a column per arm x provider
// (and per run in a run diff), filters, search, sort, and every detail of a task on click.
// Rows are built on demand as the table scrolls, so a run of 10,000 cells opens fast.
// Every string from the data goes into the page as text (textContent), never as markup:
// model output and task text are untrusted.
// The report puts explorer_details.js (el, fmt, renderDetails, freezeLabelColumns) and this
// file in one script, inside one function: nothing here is global.
freezeLabelColumns();
const source = document.getElementById("explorer-data");
const root = document.getElementById("explorer");
if (!source || !root) return;
const data = JSON.parse(source.textContent);
const columns = data.columns;
const tasks = data.tasks;
const cells = data.cells;
const diffMode = data.runs.length === 2;
const ROW = 46;
const FIXED = [
  { key: "task", title: "task", width: 150 },
  { key: "input", title: "input", width: 300 },
  { key: "expected", title: "expected", width: 110 },
];
const COLUMN_WIDTH = 220;
const FILTERS = [
  ["all", "All"],
  ["failures", "Failures"],
  ["passes", "Passes"],
  ["errors", "Errors"],
  ["disagree", "Arms disagree"],
  ["pair", "A right, B wrong"],
  ["unscored", "Unscored"],
];
if (diffMode) {
  FILTERS.push(["improved", "Improved"], ["regressed", "Regressed"], ["changed", "Changed"]);
}

// -- state, kept in the URL fragment -------------------------------------------------------
const state = {
  f: "all", q: "", re: false, a: 0, b: Math.min(1, columns.length - 1),
  s: "", d: "asc", t: "", thr: data.binary ? 1 : 0.5,
};
function readHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (params.has("f") && FILTERS.some((f) => f[0] === params.get("f"))) state.f = params.get("f");
  state.q = params.get("q") || "";
  state.re = params.get("re") === "1";
  for (const key of ["a", "b"]) {
    const n = Number(params.get(key));
    if (params.has(key) && Number.isInteger(n) && n >= 0 && n < columns.length) state[key] = n;
  }
  state.s = params.get("s") || "";
  state.d = params.get("d") === "desc" ? "desc" : "asc";
  state.t = params.get("t") || "";
  const thr = Number(params.get("thr"));
  if (params.has("thr") && Number.isFinite(thr)) state.thr = thr;
}
function writeHash() {
  const params = new URLSearchParams();
  if (state.f !== "all") params.set("f", state.f);
  if (state.q) params.set("q", state.q);
  if (state.re) params.set("re", "1");
  if (state.f === "pair") { params.set("a", state.a); params.set("b", state.b); }
  if (state.s) { params.set("s", state.s); params.set("d", state.d); }
  if (state.t) params.set("t", state.t);
  if (state.thr !== (data.binary ? 1 : 0.5)) params.set("thr", state.thr);
  const text = params.toString();
  const url = location.pathname + location.search + (text ? "#" + text : "");
  try { history.replaceState(null, "", url); } catch (e) { location.replace("#" + text); }
}

// -- per task: what each column shows and what the filters ask ----------------------------
function summarise(task) {
  return task.cells.map((ids) => {
    const own = ids.map((i) => cells[i]);
    const ok = own.filter((c) => c.ok);
    const scores = ok.map((c) => c.score).filter((s) => s !== null && s !== undefined);
    const mean = scores.length ? scores.reduce((x, y) => x + y, 0) / scores.length : null;
    const first = ok[0] || own[0] || null;
    return {
      n: own.length,
      errors: own.length - ok.length,
      unscored: ok.length - scores.length,
      score: mean,
      answer: first && first.ok ? first.answer : null,
      output: first && first.samples.length ? first.samples[0].text : "",
      error: first && !first.ok ? first.error : null,
    };
  });
}
const views = tasks.map(summarise);
function passes(view) { return view.score !== null && view.score >= state.thr; }
function fails(view) { return view.score !== null && view.score < state.thr; }
function disagree(view) {
  for (const run of [0, 1]) {
    const answers = new Set();
    const scores = new Set();
    columns.forEach((c, i) => {
      const v = view[i];
      if (c.run !== run || v.n === v.errors) return;
      answers.add(v.answer === null ? "\u0000none" : v.answer);
      if (v.score !== null) scores.add(v.score.toFixed(9));
    });
    if (answers.size > 1 || scores.size > 1) return true;
  }
  return false;
}
function keep(index) {
  const view = views[index];
  const task = tasks[index];
  switch (state.f) {
    case "failures": return view.some(fails);
    case "passes": return view.some(passes) && !view.some(fails);
    case "errors": return view.some((v) => v.errors > 0);
    case "disagree": return disagree(view);
    case "pair": return passes(view[state.a]) && fails(view[state.b]);
    case "unscored": return view.some((v) => v.unscored > 0);
    case "improved": return task.change.includes("improved");
    case "regressed": return task.change.includes("regressed");
    case "changed": return task.change.some((c) => c === "improved" || c === "regressed");
    default: return true;
  }
}
const haystacks = new Array(tasks.length);
function haystack(index) {
  if (haystacks[index] === undefined) {
    const task = tasks[index];
    const parts = [task.id, task.input, task.expected];
    for (const ids of task.cells) {
      for (const i of ids) {
        const c = cells[i];
        if (c.answer !== null) parts.push(c.answer);
        if (c.error) parts.push(c.error);
        for (const s of c.samples) parts.push(s.text);
      }
    }
    haystacks[index] = parts.join("\n");
  }
  return haystacks[index];
}
let searchError = "";
function matcher() {
  searchError = "";
  if (!state.q) return null;
  if (state.re) {
    try {
      const pattern = new RegExp(state.q, "im");
      return (text) => pattern.test(text);
    } catch (e) {
      searchError = "not a valid regular expression: " + e.message;
      return null;
    }
  }
  const needle = state.q.toLowerCase();
  return (text) => text.toLowerCase().includes(needle);
}

// -- sorting ------------------------------------------------------------------------------
function natural(a, b) {
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
}
function sortKey(index) {
  if (state.s === "input") return tasks[index].input;
  if (state.s === "expected") return tasks[index].expected;
  if (state.s.startsWith("c")) {
    const v = views[index][Number(state.s.slice(1))];
    return v ? v.score : null;
  }
  return tasks[index].id;
}
function compare(i, j) {
  const a = sortKey(i);
  const b = sortKey(j);
  if (a === null && b === null) return i - j;
  if (a === null) return 1; // missing scores last, whichever the direction
  if (b === null) return -1;
  const order = typeof a === "number" ? a - b : natural(a, b);
  return (state.d === "desc" ? -order : order) || i - j;
}

// -- the page -----------------------------------------------------------------------------
root.textContent = "";
const intro = el("p", "explorer-intro");
intro.textContent =
  "One row per task" + (diffMode ? " of either run" : "") + ", a column per arm · provider" +
  (diffMode ? " and run (" + data.runs[0] + " beside " + data.runs[1] + ")" : "") +
  ": the answer, the '" + data.scorer + "' score and the start of the first reply. " +
  "Click a row for every detail; the address keeps the filter and the selection.";
root.appendChild(intro);
const toolbar = el("div", "toolbar");
const filterGroup = el("div", "filters");
filterGroup.setAttribute("role", "group");
filterGroup.setAttribute("aria-label", "Filter tasks");
for (const [key, title] of FILTERS) {
  const button = el("button", "filter", title);
  button.type = "button";
  button.dataset.filter = key;
  button.addEventListener("click", () => { state.f = key; update(); });
  filterGroup.appendChild(button);
}
toolbar.appendChild(filterGroup);
const pairBox = el("span", "pair");
function columnSelect(key) {
  const select = el("select");
  select.id = "pair-" + key;
  columns.forEach((c, i) => {
    const option = el("option", null, columnLabel(c) + (diffMode ? " (" + data.runs[c.run] + ")" : ""));
    option.value = String(i);
    select.appendChild(option);
  });
  select.addEventListener("change", () => { state[key] = Number(select.value); state.f = "pair"; update(); });
  return select;
}
const selectA = columnSelect("a");
const selectB = columnSelect("b");
pairBox.append(el("span", null, "A "), selectA, el("span", null, " B "), selectB);
toolbar.appendChild(pairBox);
const search = el("input", "search");
search.type = "search";
search.id = "explorer-search";
search.placeholder = "Search inputs and outputs";
let typing = 0;
search.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => { state.q = search.value; update(); }, 120);
});
const regexLabel = el("label", "regex");
const regex = el("input");
regex.type = "checkbox";
regex.id = "explorer-regex";
regex.addEventListener("change", () => { state.re = regex.checked; update(); });
regexLabel.append(regex, el("span", null, " regex"));
const thresholdLabel = el("label", "threshold", "pass at score ≥ ");
const threshold = el("input");
threshold.type = "number";
threshold.step = "any";
threshold.id = "explorer-threshold";
threshold.addEventListener("change", () => {
  const value = Number(threshold.value);
  if (Number.isFinite(value)) { state.thr = value; update(); }
});
thresholdLabel.appendChild(threshold);
const counter = el("span", "count");
counter.id = "explorer-count";
toolbar.append(search, regexLabel, thresholdLabel, counter);
root.appendChild(toolbar);

// Result columns share any spare width; below their minimum the grid scrolls sideways
// in its own frame, with the task column frozen.
const template = FIXED.map((c) => c.width + "px")
  .concat(columns.map(() => "minmax(" + COLUMN_WIDTH + "px, 1fr)")).join(" ");
const minWidth = FIXED.reduce((x, c) => x + c.width, 0) + columns.length * COLUMN_WIDTH;
const totalWidth = "max(" + minWidth + "px, 100%)";
const grid = el("div", "grid");
grid.id = "explorer-grid";
grid.tabIndex = 0;
const head = el("div", "grid-row grid-head");
head.style.gridTemplateColumns = template;
head.style.width = totalWidth;
const heads = [];
FIXED.forEach((c) => heads.push([c.key, c.title, null]));
columns.forEach((c, i) => heads.push(["c" + i, columnLabel(c), diffMode ? data.runs[c.run] : null]));
heads.forEach(([key, title, run], i) => {
  const cell = el("div", "grid-cell sortable" + (i === 0 ? " frozen" : ""));
  cell.dataset.sort = key;
  cell.appendChild(el("span", "head-title", title));
  if (run !== null) cell.appendChild(el("span", "run-tag run-" + columns[i - FIXED.length].run, run));
  cell.appendChild(el("span", "arrow"));
  cell.addEventListener("click", () => {
    if (state.s === key || (!state.s && key === "task")) state.d = state.d === "asc" ? "desc" : "asc";
    else state.d = "asc";
    state.s = key;
    update();
  });
  head.appendChild(cell);
});
const body = el("div", "grid-body");
body.style.width = totalWidth;
grid.append(head, body);
const empty = el("p", "empty", "No task matches this filter and search.");
root.append(grid, empty);
const details = el("div", "details");
details.id = "explorer-details";
root.appendChild(details);

let shown = [];
function update() {
  const match = matcher();
  shown = [];
  for (let i = 0; i < tasks.length; i++) {
    if (keep(i) && (match === null || match(haystack(i)))) shown.push(i);
  }
  shown.sort(compare);
  for (const button of filterGroup.children) {
    button.setAttribute("aria-pressed", button.dataset.filter === state.f ? "true" : "false");
  }
  selectA.value = String(state.a);
  selectB.value = String(state.b);
  pairBox.classList.toggle("active", state.f === "pair");
  if (search.value !== state.q) search.value = state.q;
  regex.checked = state.re;
  threshold.value = String(state.thr);
  counter.textContent = (searchError ? searchError + " · " : "") +
    shown.length + " of " + tasks.length + " tasks";
  counter.classList.toggle("warning", Boolean(searchError));
  for (const cell of head.children) {
    const active = cell.dataset.sort === (state.s || "task");
    cell.querySelector(".arrow").textContent = active ? (state.d === "asc" ? " ▲" : " ▼") : "";
  }
  body.style.height = shown.length * ROW + "px";
  grid.style.height = Math.min(shown.length * ROW + ROW + 2, Math.max(240, window.innerHeight * 0.62)) + "px";
  empty.hidden = shown.length > 0;
  rendered = "";
  renderRows();
  showDetails();
  writeHash();
}

let rendered = "";
function renderRows() {
  const first = Math.max(0, Math.floor(grid.scrollTop / ROW) - 5);
  const last = Math.min(shown.length, first + Math.ceil(grid.clientHeight / ROW) + 12);
  const key = first + ":" + last + ":" + state.t;
  if (key === rendered) return;
  rendered = key;
  const fragment = document.createDocumentFragment();
  for (let position = first; position < last; position++) fragment.appendChild(row(shown[position], position));
  body.replaceChildren(fragment);
}
// One listener for every row, drawn or not yet drawn.
body.addEventListener("click", (event) => {
  const line = event.target.closest(".grid-row");
  if (!line) return;
  state.t = line.dataset.task;
  rendered = "";
  renderRows();
  showDetails();
  writeHash();
});
let pending = false;
grid.addEventListener("scroll", () => {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; renderRows(); });
});
window.addEventListener("resize", () => { rendered = ""; renderRows(); });

function row(index, position) {
  const task = tasks[index];
  const view = views[index];
  const line = el("div", "grid-row" + (task.id === state.t ? " selected" : ""));
  line.style.gridTemplateColumns = template;
  line.style.width = "100%";
  line.style.top = position * ROW + "px";
  line.dataset.task = task.id;
  line.appendChild(el("div", "grid-cell frozen task-id", task.id));
  line.appendChild(el("div", "grid-cell muted", task.input.slice(0, 240)));
  line.appendChild(el("div", "grid-cell", task.expected.slice(0, 120)));
  view.forEach((v, i) => {
    const cell = el("div", "grid-cell result " + status(v));
    if (v.n === 0) {
      cell.textContent = "";
    } else if (v.error) {
      cell.append(el("b", null, "error"), el("div", "snippet", v.error.slice(0, 160)));
    } else {
      const top = el("div", "top");
      top.append(el("b", "answer", v.answer === null ? "no answer" : v.answer.slice(0, 80)));
      top.append(el("span", "score", "score " + fmt(v.score, 2) + (v.n > 1 ? " (mean of " + v.n + ")" : "")));
      const change = task.change[i];
      if (change === "improved" || change === "regressed") {
        top.append(el("span", "change " + change, change === "improved" ? "▲ improved" : "▼ regressed"));
      }
      cell.append(top, el("div", "snippet", v.output.slice(0, 200)));
    }
    line.appendChild(cell);
  });
  return line;
}
function status(v) {
  if (v.n === 0) return "absent";
  if (v.errors === v.n) return "errored";
  if (v.score === null) return "unscored";
  return v.score >= state.thr ? "pass" : "fail";
}

// -- details of the selected task (explorer_details.js) -----------------------------------
function showDetails() {
  const task = tasks.find((t) => t.id === state.t);
  if (!task) {
    details.replaceChildren(el("p", "muted", "Click a row to see its prompt, every sample, the scores and the usage."));
    return;
  }
  renderDetails(details, data, task, () => { state.t = ""; rendered = ""; renderRows(); showDetails(); writeHash(); });
}

readHash();
window.addEventListener("hashchange", () => { readHash(); update(); });
update();
if (state.t) {
  const position = shown.findIndex((i) => tasks[i].id === state.t);
  if (position >= 0) grid.scrollTop = Math.max(0, position * ROW - ROW * 2);
}
