// The Rosetta web console: one page over the server's public HTTP API (GET /v1/models, GET /v1/info, the Index
// routes under /v1/collections). No framework and no build step: the server embeds this file as it is
// (scripts/embed-static). Everything a server sends is inserted as text, never as markup.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "rosetta.token";
const COLLECTION_KEY = "rosetta.collection";
// Files sent at once while indexing (each its own request: its own result and error).
const UPLOADS_AT_ONCE = 2;

// ---- The API -------------------------------------------------------------------------------------------------

class APIError extends Error {}

/** A JSON request to the API; throws APIError with the server's own message (OpenAI's error object). */
async function api(method, path, body) {
  const headers = { "accept": "application/json" };
  const token = $("token").value.trim();
  if (token) headers["authorization"] = "Bearer " + token;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new APIError("The server did not answer (" + error.message + "). Is it still running?");
  }
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : {}; } catch (_) { /* not JSON: reported below */ }
  if (!response.ok) {
    const message = json && json.error && json.error.message ? json.error.message : text || response.statusText;
    const hint = response.status === 401 ? " (enter the API token at the top)" : "";
    throw new APIError(response.status + ": " + message + hint);
  }
  if (json === null) throw new APIError("The server answered with something other than JSON.");
  return json;
}

const collectionPath = (name) => "/v1/collections/" + encodeURIComponent(name);

// ---- Messages ------------------------------------------------------------------------------------------------

function showError(error) {
  const box = $("message");
  box.textContent = error instanceof APIError ? error.message : "Something went wrong: " + error;
  box.hidden = false;
}

function clearError() {
  $("message").hidden = true;
  $("message").textContent = "";
}

// ---- Files ---------------------------------------------------------------------------------------------------

/** The base64 of a file's bytes. */
function base64Of(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(new Error("could not read " + (blob.name || "the file")));
    reader.readAsDataURL(blob);
  });
}

/** image, audio or text, from the MIME type and then the extension; null when none fits. */
function kindOf(file) {
  const type = file.type || "";
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("audio/") || type === "application/ogg") return "audio";
  if (type.startsWith("text/")) return "text";
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  if (["jpg", "jpeg", "png"].includes(ext)) return "image";
  if (["wav", "flac", "ogg", "oga", "mp3"].includes(ext)) return "audio";
  if (["txt", "md"].includes(ext)) return "text";
  return null;
}

/** The API's Input for a file (text files are sent as their text). */
async function inputOf(file) {
  const kind = kindOf(file);
  if (kind === "text") return { text: await file.text() };
  if (kind === null) throw new Error(file.name + " is not an image, a sound or a text file");
  return { [kind]: { data: await base64Of(file), mime_type: file.type || "" } };
}

/** Makes `zone` take dropped files for `onFiles`, as its file input does. */
function dropZone(zone, onFiles) {
  const input = $(zone.dataset.for);
  input.addEventListener("change", () => { if (input.files.length) onFiles([...input.files]); });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) onFiles([...event.dataTransfer.files]);
  });
}

// ---- Collections and models ----------------------------------------------------------------------------------

let collections = [];
let info = null;

async function loadCollections(select) {
  collections = (await api("GET", "/v1/collections")).collections || [];
  const menu = $("collection");
  const wanted = select || menu.value || sessionStorage.getItem(COLLECTION_KEY);
  menu.replaceChildren(...collections.map((c) => new Option(c.name + " (" + (c.count || 0) + ")", c.name)));
  if (collections.length === 0) menu.append(new Option("no collections yet: create one", ""));
  if (collections.some((c) => c.name === wanted)) menu.value = wanted;
  sessionStorage.setItem(COLLECTION_KEY, menu.value);
  renderCollections();
}

async function loadServer() {
  const [models, serverInfo] = await Promise.all([api("GET", "/v1/models"), api("GET", "/v1/info")]);
  info = serverInfo;
  const modelMenu = $("new-model");
  modelMenu.replaceChildren(...models.data.map((m) => {
    const option = new Option(m.id + (m.is_default ? " (default)" : ""), m.id);
    option.selected = !!m.is_default;
    return option;
  }));
  $("server-version").textContent = "Rosetta " + (info.version || "") + ", " + (info.compute_threads || 0) + " compute threads";
  $("models").tBodies[0].replaceChildren(...models.data.map((m) =>
    row([m.id, (m.modalities || []).join(", "), String(m.dimensions || ""), m.space || ""])));
  const limits = info.limits || {};
  $("limits").replaceChildren(...Object.keys(limits).sort().flatMap((key) => {
    const term = document.createElement("dt");
    term.textContent = key.replace(/_/g, " ");
    const value = document.createElement("dd");
    value.textContent = String(limits[key]);
    return [term, value];
  }));
  const maxPreviews = previewLimit();
  $("top-k").max = String(maxPreviews);
}

/** Results a search may ask for with previews (the server's rule: previews of 49,152 bytes fill half a message). */
function previewLimit() {
  const bytes = Number((info && info.limits && info.limits.max_message_bytes) || 16777216);
  return Math.max(1, Math.floor(bytes / 2 / 49152));
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

function renderCollections() {
  $("collections").tBodies[0].replaceChildren(...collections.map((c) => row([
    c.name, c.model || "(raw vectors)", String(c.count || 0), (c.storage || "STORAGE_FLOAT32").replace("STORAGE_", "").toLowerCase(),
    c.keep_previews ? "kept" : "none",
  ])));
}

async function createCollection(event) {
  event.preventDefault();
  clearError();
  const name = $("new-name").value.trim();
  try {
    await api("POST", "/v1/collections", { name, model: $("new-model").value, keep_previews: true });
    $("new-name").value = "";
    $("new-collection").open = false;
    await loadCollections(name);
  } catch (error) {
    showError(error);
  }
}

function currentCollection() {
  const name = $("collection").value;
  if (!name) throw new APIError("Choose a collection first, or create one (New collection).");
  return name;
}

// ---- Search --------------------------------------------------------------------------------------------------

/** The chosen or recorded query file, or null (then the text is the query). */
let queryFile = null;

function chooseQueryFile(file) {
  queryFile = file;
  $("query-chosen").hidden = file === null;
  $("query-chosen-name").textContent = file ? "Searching with " + file.name : "";
  if (file === null) $("query-file").value = "";
}

async function search(event) {
  event.preventDefault();
  clearError();
  const status = $("search-status");
  try {
    const collection = currentCollection();
    const text = $("query-text").value.trim();
    if (!queryFile && !text) throw new APIError("Type what you are looking for, or choose an image or a sound.");
    const request = {
      input: queryFile ? await inputOf(queryFile) : { text },
      top_k: Number($("top-k").value) || 12,
      include_previews: true,
    };
    const instruction = $("instruction").value.trim();
    if (instruction) request.instruction = instruction;
    const minScore = $("min-score").value.trim();
    if (minScore !== "") request.min_score = Number(minScore);
    const modalities = [...document.querySelectorAll("input[name=modality]:checked")].map((box) => box.value);
    if (modalities.length) request.modalities = modalities;
    status.textContent = "Searching…";
    $("search-button").disabled = true;
    const started = performance.now();
    const response = await api("POST", collectionPath(collection) + "/search", request);
    const hits = response.hits || [];
    renderResults(hits);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    status.textContent = hits.length ? hits.length + " results in " + seconds + " s" : "Nothing found.";
  } catch (error) {
    status.textContent = "";
    $("results").replaceChildren();
    showError(error);
  } finally {
    $("search-button").disabled = false;
  }
}

const KIND_NAMES = { MODALITY_TEXT: "text", MODALITY_IMAGE: "image", MODALITY_AUDIO: "sound", MODALITY_VECTOR: "vector" };

function renderResults(hits) {
  $("results").replaceChildren(...hits.map((hit, position) => {
    const item = document.createElement("li");
    item.className = "card";
    item.dataset.id = hit.id;
    const preview = hit.preview || {};
    const kind = KIND_NAMES[hit.modality] || "item";
    if (preview.thumbnail_jpeg) {
      const image = document.createElement("img");
      image.src = "data:image/jpeg;base64," + preview.thumbnail_jpeg;
      image.alt = hit.id;
      if (preview.thumbnail_width) image.width = preview.thumbnail_width;
      if (preview.thumbnail_height) image.height = preview.thumbnail_height;
      image.className = "thumb";
      item.append(image);
    } else {
      const body = document.createElement("div");
      body.className = "snippet " + kind;
      if (preview.duration_seconds) {
        const length = document.createElement("span");
        length.className = "duration";
        length.textContent = "♪ " + Number(preview.duration_seconds).toFixed(1) + " s";
        body.append(length);
      }
      const words = document.createElement("p");
      words.textContent = preview.text || (kind === "sound" ? "(no transcript)" : "(no preview kept)");
      body.append(words);
      item.append(body);
    }
    const caption = document.createElement("div");
    caption.className = "caption";
    const title = document.createElement("strong");
    title.textContent = (position + 1) + ". " + hit.id;
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = kind + " · score " + Number(hit.score || 0).toFixed(3);
    caption.append(title, score);
    const metadata = Object.entries(hit.metadata || {});
    if (metadata.length) {
      const list = document.createElement("dl");
      for (const [key, value] of metadata) {
        const term = document.createElement("dt");
        term.textContent = key;
        const detail = document.createElement("dd");
        detail.textContent = value.string_value !== undefined ? value.string_value : String(value.number_value);
        list.append(term, detail);
      }
      caption.append(list);
    }
    item.append(caption);
    return item;
  }));
}

// ---- Microphone ----------------------------------------------------------------------------------------------

/** Records PCM from the microphone with the Web Audio API; `stop()` gives a 16-bit mono WAV file. */
class Recorder {
  /** `onProgress(seconds)` is called as audio arrives. */
  constructor(onProgress) { this.onProgress = onProgress; }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    this.context = new AudioContext();
    const source = this.context.createMediaStreamSource(this.stream);
    // ScriptProcessorNode: deprecated but everywhere, and needs no second script (an AudioWorklet module would).
    this.node = this.context.createScriptProcessor(4096, 1, 1);
    this.chunks = [];
    this.samples = 0;
    this.node.onaudioprocess = (event) => {
      this.chunks.push(new Float32Array(event.inputBuffer.getChannelData(0)));
      this.samples += event.inputBuffer.length;
      this.onProgress(this.samples / this.context.sampleRate);
    };
    source.connect(this.node);
    this.node.connect(this.context.destination);
  }

  async stop() {
    this.node.disconnect();
    this.stream.getTracks().forEach((track) => track.stop());
    const rate = this.context.sampleRate;
    await this.context.close();
    const length = this.chunks.reduce((n, chunk) => n + chunk.length, 0);
    const samples = new Float32Array(length);
    let offset = 0;
    for (const chunk of this.chunks) { samples.set(chunk, offset); offset += chunk.length; }
    return new File([wav(samples, rate)], "recording.wav", { type: "audio/wav" });
  }
}

/** A RIFF/WAVE file of 16-bit little-endian PCM, one channel. */
function wav(samples, rate) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const ascii = (offset, text) => { for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i)); };
  ascii(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); ascii(8, "WAVE");
  ascii(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  ascii(36, "data"); view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return buffer;
}

let recorder = null;

async function toggleRecording() {
  const button = $("record");
  clearError();
  try {
    if (recorder === null) {
      if (!navigator.mediaDevices) throw new APIError("This browser gives no microphone here (it needs https or localhost).");
      recorder = new Recorder((seconds) => { button.textContent = "Stop recording (" + seconds.toFixed(1) + " s)"; });
      await recorder.start();
      button.textContent = "Stop recording";
      button.setAttribute("aria-pressed", "true");
    } else {
      const file = await recorder.stop();
      recorder = null;
      button.textContent = "Record from microphone";
      button.setAttribute("aria-pressed", "false");
      chooseQueryFile(file);
    }
  } catch (error) {
    recorder = null;
    button.textContent = "Record from microphone";
    button.setAttribute("aria-pressed", "false");
    showError(error instanceof APIError ? error : new APIError("Recording failed: " + error.message));
  }
}

// ---- Indexing ------------------------------------------------------------------------------------------------

async function indexFiles(files) {
  clearError();
  let collection;
  try { collection = currentCollection(); } catch (error) { showError(error); return; }
  const progress = $("index-progress");
  const log = $("index-log");
  const status = $("index-status");
  progress.max = files.length;
  progress.value = 0;
  log.replaceChildren();
  let failed = 0;
  let next = 0;
  status.textContent = "Adding " + files.length + " files to " + collection + "…";

  async function upload(file) {
    const line = document.createElement("li");
    line.dataset.file = file.name;
    try {
      const item = { id: file.name, input: await inputOf(file), metadata: { file: { string_value: file.name } } };
      const response = await api("POST", collectionPath(collection) + "/upsert", { items: [item] });
      const result = (response.results || [])[0] || {};
      const code = result.status && result.status.code;
      if (code) throw new APIError(result.status.message || "refused with code " + code);
      line.className = "ok";
      line.textContent = file.name + ": added";
    } catch (error) {
      failed += 1;
      line.className = "error";
      line.textContent = file.name + ": " + error.message;
    }
    log.append(line);
    progress.value += 1;
  }

  async function worker() {
    while (next < files.length) await upload(files[next++]);
  }
  await Promise.all(Array.from({ length: Math.min(UPLOADS_AT_ONCE, files.length) }, worker));
  status.textContent = "Done: " + (files.length - failed) + " added" + (failed ? ", " + failed + " failed (see below)" : "") + ".";
  $("index-files").value = "";
  try { await loadCollections(collection); } catch (error) { showError(error); }
}

// ---- Tabs and start ------------------------------------------------------------------------------------------

function showTab() {
  clearError();
  const tab = (location.hash || "#search").slice(1);
  for (const section of document.querySelectorAll("section.tab")) section.hidden = section.id !== tab;
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function refresh() {
  clearError();
  try {
    await Promise.all([loadServer(), loadCollections()]);
  } catch (error) {
    showError(error);
  }
}

function start() {
  const token = $("token");
  token.value = sessionStorage.getItem(TOKEN_KEY) || "";
  token.addEventListener("change", () => { sessionStorage.setItem(TOKEN_KEY, token.value.trim()); refresh(); });
  $("collection").addEventListener("change", () => sessionStorage.setItem(COLLECTION_KEY, $("collection").value));
  $("refresh").addEventListener("click", refresh);
  $("create-form").addEventListener("submit", createCollection);
  $("search-form").addEventListener("submit", search);
  $("query-clear").addEventListener("click", () => chooseQueryFile(null));
  $("record").addEventListener("click", toggleRecording);
  dropZone($("query-drop"), (files) => chooseQueryFile(files[0]));
  dropZone($("index-drop"), indexFiles);
  window.addEventListener("hashchange", showTab);
  showTab();
  refresh();
}

start();
