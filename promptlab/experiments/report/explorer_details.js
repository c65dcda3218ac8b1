// The run explorer's details panel: everything about one task, card by card, and the
// summary tables' frozen label columns. The report puts this file and explorer.js in one
// script, inside one function: these names are local to it. Every string from the data
// goes into the page as text (textContent), never as markup.

// -- small DOM helpers: text only ------------------------------------------------------
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}
function fmt(value, digits) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(digits === undefined ? 3 : digits);
}
function columnLabel(c) {
  return c.arm + " · " + c.provider;
}

// Fill `target` with the details of `task`: its input, then a card per column (in a run
// diff, each run's card beside its match). `onClose` runs when the Close button is pressed.
function renderDetails(target, data, task, onClose) {
  const diffMode = data.runs.length === 2;
  target.replaceChildren();
  const header = el("div", "details-head");
  header.append(el("h3", null, "Task " + task.id), el("span", "muted", "expected: " + (task.expected || "–")));
  const close = el("button", "close", "Close");
  close.type = "button";
  close.addEventListener("click", onClose);
  header.appendChild(close);
  target.appendChild(header);
  if (task.input) {
    const input = el("details", "input");
    input.appendChild(el("summary", null, "Input (the last user message)"));
    input.appendChild(el("pre", null, task.input));
    target.appendChild(input);
  }
  const cards = el("div", "cards" + (diffMode ? " side-by-side" : ""));
  data.columns.forEach((c, i) => {
    if (diffMode && c.run === 1 && c.match !== null) return; // placed beside its partner
    cards.appendChild(card(data, task, i));
    if (diffMode) {
      cards.appendChild(c.match !== null ? card(data, task, c.match) : el("div", "card absent-card", "not in " + data.runs[1 - c.run]));
    }
  });
  target.appendChild(cards);
}
function card(data, task, i) {
  const diffMode = data.runs.length === 2;
  const c = data.columns[i];
  const box = el("div", "card");
  box.dataset.column = String(i);
  const title = el("h4", null, columnLabel(c));
  if (diffMode) title.appendChild(el("span", "run-tag run-" + c.run, data.runs[c.run]));
  const change = task.change[i];
  if (change) title.appendChild(el("span", "change " + change, change));
  box.appendChild(title);
  const ids = task.cells[i];
  if (!ids.length) box.appendChild(el("p", "muted", "No cell for this task."));
  for (const id of ids) box.appendChild(cellDetails(data.cells[id], ids.length > 1));
  return box;
}
function field(list, name, value) {
  list.append(el("dt", null, name), el("dd", null, value));
}
function cellDetails(cell, showRepeat) {
  const box = el("div", "cell");
  if (showRepeat) box.appendChild(el("h5", null, "repeat " + cell.repeat));
  const facts = el("dl", "facts");
  if (!cell.ok) field(facts, "error", cell.error);
  field(facts, "answer", cell.answer === null ? "no answer" : cell.answer);
  for (const [name, score] of Object.entries(cell.scores)) field(facts, "score " + name, fmt(score));
  if (cell.votes) {
    field(facts, "votes", Object.entries(cell.votes).map(([a, n]) => a + ": " + n).join(", "));
    field(facts, "confidence", fmt(cell.confidence));
    field(facts, "no answer", String(cell.no_answer));
  }
  if (cell.stop_reason) field(facts, "stop reason", cell.stop_reason);
  field(facts, "tokens", cell.input_tokens + " in (" + cell.cached_input_tokens + " cached) · " + cell.output_tokens + " out");
  field(facts, "latency", fmt(cell.latency, 2) + " s" + (cell.cached ? " (cache hit)" : ""));
  field(facts, "cost", cell.cost === null ? "unknown" : "$" + Number(cell.cost.toPrecision(4)));
  field(facts, "calls", String(cell.calls));
  field(facts, "model", cell.model);
  box.appendChild(facts);
  for (const [name, note] of Object.entries(cell.notes)) {
    if (!note) continue;
    const part = el("details", "note");
    part.open = true;
    part.appendChild(el("summary", null, "Scorer " + name + ": note / judge reasoning"));
    part.appendChild(el("pre", null, note));
    box.appendChild(part);
  }
  const prompt = el("details", "prompt");
  prompt.appendChild(el("summary", null, "Prompt (" + cell.messages.length + " messages)"));
  if (!cell.messages.length) prompt.appendChild(el("p", "muted", "The prompt was not stored with this cell (older run, or the cell failed before rendering)."));
  for (const m of cell.messages) {
    const message = el("div", "message");
    message.append(el("span", "role", m.role), el("pre", null, m.content));
    prompt.appendChild(message);
  }
  box.appendChild(prompt);
  const samples = el("details", "samples");
  samples.open = true;
  samples.appendChild(el("summary", null, cell.samples.length + " sample(s)"));
  cell.samples.forEach((s, n) => {
    const sample = el("div", "sample");
    sample.appendChild(el("div", "sample-head",
      "sample " + (n + 1) + " · answer: " + (s.answer === null ? "none" : s.answer) +
      " · finish: " + (s.finish || "–")));
    sample.appendChild(el("pre", null, s.text));
    samples.appendChild(sample);
  });
  box.appendChild(samples);
  if (cell.retrieved.length) {
    const passages = el("details", "retrieved");
    passages.open = true;
    passages.appendChild(el("summary", null, cell.retrieved.length + " retrieved passage(s)"));
    for (const p of cell.retrieved) {
      const passage = el("div", "passage");
      passage.append(el("div", "sample-head", p.id + " · score " + fmt(p.score)), el("pre", null, p.text));
      passages.appendChild(passage);
    }
    box.appendChild(passages);
  }
  const params = el("details", "params");
  params.appendChild(el("summary", null, "Parameters · " + cell.strategy));
  params.appendChild(el("pre", null, JSON.stringify(cell.params, null, 1)));
  box.appendChild(params);
  return box;
}

// Summary tables: keep the label columns (arm, provider) in view while the table scrolls
// sideways in its own frame.
function freezeLabelColumns() {
  for (const table of document.querySelectorAll("table.frozen-labels")) {
    const firstRow = table.querySelector("tr");
    if (!firstRow) continue;
    let left = 0;
    const offsets = [];
    for (const cell of firstRow.children) {
      if (!cell.classList.contains("frozen")) break;
      offsets.push(left);
      left += cell.getBoundingClientRect().width;
    }
    for (const line of table.querySelectorAll("tr")) {
      offsets.forEach((offset, i) => {
        const cell = line.children[i];
        if (cell && cell.classList.contains("frozen")) cell.style.left = offset + "px";
      });
    }
  }
}
