// musicrec pages: search as you type, rating, recommendations; all through the JSON API.
"use strict";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

// A 401 while the page is open means the session ended (logged out elsewhere, idle, expired):
// say so once at the top of the page, with a log-in link that comes back here.
function sessionEnded() {
  if (!document.getElementById("session-ended")) {
    const back = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    const notice = el("div", { id: "session-ended", class: "notice", role: "alert" },
      el("p", { text: "Your session has ended, so this was not saved. " },
        el("a", { href: back, text: "Log in again" }), " to go on; you will come back to this page."));
    document.getElementById("content").prepend(notice);
    notice.querySelector("a").focus();
  }
  const error = new Error("Your session has ended: log in again to go on.");
  error.status = 401;
  error.sessionEnded = true;
  return error;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  if (response.status === 401) throw sessionEnded();
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data?.error?.message || `Request failed (${response.status})`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

// Numbers as the server writes them (web/main/formatting.py): "83,340".
const formatCount = (value) => Number(value).toLocaleString("en-US");

function setRatedCount(count) {
  document.querySelectorAll("[data-rated-count]").forEach((node) => { node.textContent = formatCount(count); });
  document.querySelectorAll("[data-enough]").forEach((node) => {
    const enough = count >= Number(node.dataset.enough);
    node.querySelectorAll("[data-below-enough]").forEach((hint) => { hint.hidden = enough; });
    node.querySelectorAll("[data-enough-reached]").forEach((hint) => { hint.hidden = !enough; });
  });
}

async function refreshRatedCount() {
  const me = await api("GET", "/api/v1/me");
  setRatedCount(me.rated_count);
}

const myRatings = new Map();

// My ratings of the artists about to be shown (the list of all of them comes a page at a time).
async function rememberMyRatings(artistIds) {
  if (!artistIds.length) return;
  try {
    const data = await api("GET", `/api/v1/me/ratings?artist_ids=${artistIds.slice(0, 50).join(",")}`);
    for (const row of data.ratings) myRatings.set(row.artist.id, row.rating);
  } catch (error) { /* the cards show no rating: rating still works */ }
}

// The ten rating buttons of _macros.html's rating_control, for cards built here.
function ratingControl(artist) {
  const current = myRatings.get(artist.id);
  const buttons = el("span", { class: "rating-buttons" });
  for (let n = 1; n <= 10; n += 1) {
    buttons.append(el("button", {
      type: "button", class: "rate", "data-rate": artist.id, "data-value": n,
      "aria-pressed": current === n ? "true" : "false", "aria-label": `${n} out of 10 for ${artist.name}`, text: String(n),
    }));
  }
  const remove = el("button", { type: "button", class: "unrate", "data-unrate": artist.id, hidden: !current, "aria-label": `Remove your rating of ${artist.name}`, text: "Remove rating" });
  return el("span", { class: "rating-control", role: "group", "aria-label": `Your rating of ${artist.name}, 1 to 10` }, buttons, remove);
}

const AVATAR_COLOURS = 12;

// Initials and colour index of a name, as musicrec/web/avatars.py computes them.
function avatarParts(name) {
  let hash = 0;
  for (const char of name) hash = (Math.imul(hash, 31) + char.codePointAt(0)) >>> 0;
  const words = name.split(/\s+/).map((word) => [...word].filter((c) => /[\p{L}\p{N}]/u.test(c)).join("")).filter(Boolean);
  let initials;
  if (!words.length) initials = [...name.trim()].slice(0, 2).join("");
  else if (words.length === 1) initials = [...words[0]][0].toUpperCase();
  else initials = ([...words[0]][0] + [...words[words.length - 1]][0]).toUpperCase();
  return { initials, colour: hash % AVATAR_COLOURS };
}

function avatar(artist) {
  if (artist.image_url) return el("img", { class: "avatar", src: artist.image_url, alt: "", loading: "lazy", width: "40", height: "40" });
  const { initials, colour } = avatarParts(artist.name);
  return el("span", { class: `avatar avatar-${colour}`, "aria-hidden": "true", text: initials });
}

function artistCard(artist, extra) {
  const main = el("div", { class: "card-main" }, avatar(artist),
    el("a", { class: "name", href: `/artists/${artist.id}`, text: artist.name }),
    artist.lastfm_url ? el("a", { class: "external", href: artist.lastfm_url, rel: "noopener noreferrer", target: "_blank", text: "Last.fm" }) : null);
  const notForMe = el("button", { type: "button", class: "not-for-me", "data-not-for-me": artist.id, "data-artist-name": artist.name, "aria-label": `${artist.name} is not for me`, text: "Not for me" });
  return el("li", { class: "card", "data-artist-id": artist.id }, main, extra || null, ratingControl(artist), notForMe);
}

function showRating(artistId, rating) {
  document.querySelectorAll(`button[data-rate="${artistId}"]`).forEach((b) => {
    b.setAttribute("aria-pressed", String(Number(b.dataset.value) === rating));
  });
  document.querySelectorAll(`[data-unrate="${artistId}"]`).forEach((b) => { b.hidden = !rating; });
  if (rating) document.querySelectorAll(`.undo-remove[data-artist-id="${artistId}"]`).forEach((note) => note.remove());
}

// The rating shown on the page for an artist (cards drawn by the server are not in myRatings).
function shownRating(artistId) {
  if (myRatings.has(artistId)) return myRatings.get(artistId);
  const pressed = document.querySelector(`button[data-rate="${artistId}"][aria-pressed="true"]`);
  return pressed ? Number(pressed.dataset.value) : null;
}

// After "Remove rating": a note with an Undo that puts the rating back, where the button was.
function offerUndo(button, artistId, previous) {
  const control = button.closest(".rating-control");
  if (!control || !previous) return;
  control.querySelector(".undo-remove")?.remove();
  const undo = el("button", { type: "button", "data-rerate": artistId, "data-value": previous, "aria-label": `Undo: rate it ${previous} again`, text: "Undo" });
  control.append(el("span", { class: "undo-remove", role: "status", "data-artist-id": artistId }, el("span", { text: "Rating removed." }), undo));
  undo.focus();
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-rerate]");
  if (!button) return;
  const artistId = Number(button.dataset.rerate);
  button.disabled = true;
  try {
    await saveRating(artistId, Number(button.dataset.value));
  } catch (error) {
    button.disabled = false;
    if (!error.sessionEnded) alert(error.message);
  }
});

// Store a rating and show it everywhere on the page (the buttons, the rated count).
async function saveRating(artistId, value) {
  const result = await api("PUT", `/api/v1/me/ratings/${artistId}`, { rating: value });
  myRatings.set(artistId, result.rating);
  setRatedCount(result.rated_count);
  showRating(artistId, result.rating);
}

// Rating: any [data-rate] button and [data-unrate] button on any page.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-rate]");
  if (!button) return;
  const artistId = Number(button.dataset.rate);
  const group = button.closest(".rating-control");
  group?.setAttribute("aria-busy", "true");
  try {
    await saveRating(artistId, Number(button.dataset.value));
  } catch (error) {
    if (!error.sessionEnded) alert(error.message);
  } finally {
    group?.removeAttribute("aria-busy");
  }
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-unrate]");
  if (!button) return;
  const artistId = Number(button.dataset.unrate);
  const previous = shownRating(artistId);
  try {
    await api("DELETE", `/api/v1/me/ratings/${artistId}`);
  } catch (error) {
    if (error.sessionEnded) return;
    if (error.status !== 404) { alert(error.message); return; }
  }
  myRatings.delete(artistId);
  showRating(artistId, null);
  offerUndo(button, artistId, previous);
  await refreshRatedCount().catch(() => {});
});

// Search as you type.
function setUpSearch() {
  const input = document.getElementById("artist-search");
  if (!input) return;
  const results = document.getElementById("search-results");
  const status = document.getElementById("search-status");
  let timer = null;
  let controller = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const query = input.value.trim();
      if (controller) controller.abort();
      if (!query) { results.replaceChildren(); status.textContent = ""; return; }
      controller = new AbortController();
      try {
        const response = await fetch(`/api/v1/artists?q=${encodeURIComponent(query)}&limit=10`, { signal: controller.signal, headers: { Accept: "application/json" } });
        const data = await response.json().catch(() => ({}));
        if (!response.ok) {
          results.replaceChildren();
          status.textContent = data?.error?.message || "Search failed; try again.";
          return;
        }
        await rememberMyRatings(data.artists.map((artist) => artist.id));
        results.replaceChildren(...data.artists.map((artist) => artistCard(artist)));
        const found = data.artists.length;
        status.textContent = found ? `${found} ${found === 1 ? "artist" : "artists"} found` : "No artist found: you can add it below.";
      } catch (error) {
        if (error.name !== "AbortError") status.textContent = "Search failed; try again.";
      }
    }, 120);
  });
}

function setUpAddArtist() {
  const form = document.getElementById("add-artist-form");
  if (!form) return;
  const status = document.getElementById("add-artist-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = form.elements.name.value.trim();
    if (!name) return;
    try {
      const data = await api("POST", "/api/v1/artists", { name });
      const card = artistCard(data.artist);
      document.getElementById("search-results").replaceChildren(card);
      const found = `${data.artist.name} is in the catalogue: rate it in its card.`;
      document.getElementById("search-status").textContent = found;
      status.textContent = found;
      form.reset();
      card.querySelector("button[data-rate]")?.focus();
    } catch (error) {
      status.textContent = error.message;
    }
  });
}

// Moments in the viewer's own time zone and language: every time[data-local-time] (the server
// writes UTC, which stays for browsers without JavaScript); data-seconds adds the seconds.
function localTimeText(date, seconds) {
  const options = { day: "2-digit", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
  if (seconds) options.second = "2-digit";
  return new Intl.DateTimeFormat(undefined, options).format(date);
}

function localiseTimes(root = document) {
  root.querySelectorAll("time[data-local-time]").forEach((node) => {
    const date = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) return;
    node.textContent = localTimeText(date, node.hasAttribute("data-seconds"));
    node.title = `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
  });
}

// Batches made in the same minute show their seconds, and those of the same second a number
// ("batch 2", the oldest 1), so no two read alike (as web/main/formatting.py's time_marks).
function distinguishSameMinute(list) {
  const times = [...list.querySelectorAll("li.batch summary time[data-local-time]")];
  const moment = (node) => new Date(node.getAttribute("datetime"));
  const minutes = new Map();
  const seconds = new Map();
  for (const node of times) {
    const iso = moment(node).toISOString();
    minutes.set(iso.slice(0, 16), (minutes.get(iso.slice(0, 16)) || 0) + 1);
    seconds.set(iso.slice(0, 19), [...(seconds.get(iso.slice(0, 19)) || []), moment(node).getTime()]);
  }
  for (const node of times) {
    const iso = moment(node).toISOString();
    node.toggleAttribute("data-seconds", minutes.get(iso.slice(0, 16)) > 1);
    node.parentElement.querySelector(".batch-number")?.remove();
    const twins = seconds.get(iso.slice(0, 19)).sort((a, b) => a - b);
    if (twins.length > 1) node.after(el("span", { class: "batch-number", text: ` · batch ${twins.indexOf(moment(node).getTime()) + 1}` }));
  }
  localiseTimes(list);
}

function shownAt(iso) {
  return el("time", { datetime: iso, "data-local-time": true, text: iso });
}

// A batch of past recommendations as _macros.html's recommendation_batch draws it.
function pastBatch(cards, iso) {
  const summary = el("summary", {}, shownAt(iso),
    el("span", { class: "hint", text: ` · ${cards.length} ${cards.length === 1 ? "artist" : "artists"}` }));
  return el("li", { class: "batch" }, el("details", {}, summary, el("ul", { class: "cards" }, ...cards)));
}

// Recommendations: fetch new ones; the previous new ones become the newest past batch.
function setUpRecommendations() {
  const button = document.getElementById("get-recommendations");
  if (!button) return;
  const fresh = document.getElementById("new-recommendations");
  const past = document.getElementById("past-recommendations");
  const status = document.getElementById("recommendations-status");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Finding artists for you…";
    try {
      const data = await api("POST", "/api/v1/me/recommendations?n=10");
      const moved = [...fresh.querySelectorAll("li.card")];
      if (moved.length && past.dataset.page === "1") {
        past.querySelector(".empty")?.remove();
        past.querySelectorAll("details[open]").forEach((details) => { details.open = false; });
        past.prepend(pastBatch(moved, fresh.dataset.shownAt));
        distinguishSameMinute(past);
      }
      await rememberMyRatings(data.recommendations.map((item) => item.artist.id));
      const items = data.recommendations.map((item) => {
        const because = item.because.length ? el("p", { class: "why", text: `Because you rated ${item.because.map((a) => a.name).join(", ")}` }) : null;
        return artistCard(item.artist, because);
      });
      fresh.dataset.shownAt = new Date().toISOString();
      fresh.replaceChildren(...(items.length ? items : [el("li", { class: "hint empty", text: "No new artists to recommend right now: rate more artists." })]));
      status.textContent = items.length ? `${items.length} new recommendations` : "";
      bringIntoView(fresh.querySelector("li") || fresh, document.getElementById("new-heading"));
      if (fresh.hasAttribute("data-top-songs")) items.forEach(showTopSongs);
      const save = document.getElementById("save-playlist");
      if (save) save.hidden = !items.length;
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
}

// New recommendations land under the notice and the slider: on a phone that is below the
// fold, so the page scrolls to their heading unless the first card is already in full view.
function bringIntoView(target, heading) {
  const box = target.getBoundingClientRect();
  if (box.top >= 0 && box.bottom <= window.innerHeight) return;
  (heading || target).scrollIntoView({ block: "start" });
}

function songList(songs) {
  const list = el("ol", { class: "songs", "aria-label": "Top songs" });
  for (const song of songs) {
    list.append(el("li", {}, song.url ? el("a", { href: song.url, rel: "noopener noreferrer", target: "_blank", text: song.title }) : el("span", { text: song.title })));
  }
  return list;
}

// Top songs of a recommended artist, under its card (cached by the server).
async function showTopSongs(card) {
  try {
    const data = await api("GET", `/api/v1/artists/${card.dataset.artistId}/top-songs`);
    if (!data.songs.length) return;
    card.querySelector(".rating-control")?.before(songList(data.songs));
  } catch (error) {
    // the songs are a nicety: the card stays as it is
  }
}

// The artist page's top songs: fetched after the page is shown, never while it is made.
async function setUpArtistSongs() {
  const section = document.querySelector("[data-top-songs-of]");
  if (!section) return;
  try {
    const data = await api("GET", `/api/v1/artists/${section.dataset.topSongsOf}/top-songs`);
    if (!data.songs.length) return;
    section.append(songList(data.songs));
    section.hidden = false;
  } catch (error) {
    // no songs: the section stays hidden
  }
}

// Save the new recommendations' top songs as a Spotify playlist.
function setUpPlaylist() {
  const button = document.getElementById("save-playlist");
  if (!button) return;
  const status = document.getElementById("playlist-status");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Saving the playlist on Spotify…";
    try {
      const data = await api("POST", "/api/v1/me/spotify/playlist");
      const playlist = data.playlist;
      status.replaceChildren(`Saved ${formatCount(playlist.tracks)} ${playlist.tracks === 1 ? "song" : "songs"}: `,
        playlist.url ? el("a", { id: "playlist-link", href: playlist.url, rel: "noopener noreferrer", target: "_blank", text: "open the playlist on Spotify" }) : "the playlist is in your Spotify library");
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
}

// The Spotify library import (account page): queue it, then follow the job.
function setUpSpotifyImport() {
  const button = document.getElementById("spotify-import");
  if (!button) return;
  const list = document.getElementById("spotify-jobs");
  const status = document.getElementById("spotify-import-status");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const data = await api("POST", "/api/v1/me/spotify/import");
      const item = jobItem(data.job);
      list.prepend(item);
      followJob(item);
      status.textContent = "Import queued: it runs in the background.";
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
}

function importSummary(result) {
  const n = (value) => formatCount(value ?? 0);
  let text = `${n(result.rated)} ratings imported, ${n(result.added)} new artists added for you alone (until confirmed), ${n(result.kept_manual)} of your own ratings kept, ${n(result.skipped)} unchanged (${n(result.requests)} requests to Spotify).`;
  if (result.refused || result.over_limit) text += ` Not added: ${n(result.refused)} with a name the catalogue refuses, ${n(result.over_limit)} over the day's limit of new artists.`;
  if (result.not_imported?.length) text += ` Not imported: ${result.not_imported.join("; ")}.`;
  return text;
}

// Jobs: every [data-job-id] still queued or running follows its job without a reload.
const JOB_POLL_MS = 1000;
const ACTIVE_JOB_STATES = new Set(["queued", "running"]);

function showJob(item, job) {
  item.dataset.jobState = job.state;
  const state = item.querySelector("[data-job-state-text]");
  state.textContent = job.state;
  state.className = `job-state state-${job.state}`;
  const bar = item.querySelector("progress");
  bar.value = job.progress;
  bar.textContent = `${Math.round(job.progress * 100)}%`;
  const error = item.querySelector("[data-job-error]");
  error.textContent = job.error || "";
  error.hidden = !job.error;
  const result = item.querySelector("[data-job-result]");
  if (result && job.kind === "import" && job.result) {
    result.textContent = importSummary(job.result);
    result.hidden = false;
  }
}

function followJob(item) {
  if (!ACTIVE_JOB_STATES.has(item.dataset.jobState) || item.dataset.following) return;
  item.dataset.following = "yes";
  const poll = async () => {
    try {
      const data = await api("GET", `/api/v1/me/jobs/${item.dataset.jobId}`);
      showJob(item, data.job);
      if (!ACTIVE_JOB_STATES.has(data.job.state)) {
        delete item.dataset.following;
        item.dispatchEvent(new CustomEvent("job-ended", { bubbles: true, detail: data.job }));
        return;
      }
    } catch (error) {
      if (error.status === 404 || error.status === 401) { delete item.dataset.following; return; }
    }
    setTimeout(poll, JOB_POLL_MS);
  };
  setTimeout(poll, JOB_POLL_MS);
}

function jobItem(job) {
  const head = el("div", { class: "job-head" },
    el("span", { class: "job-kind", text: job.kind }),
    el("span", { class: "hint", text: `#${job.id}${job.reason ? ` · ${job.reason}` : ""}` }),
    el("span", { class: `job-state state-${job.state}`, "data-job-state-text": true, text: job.state }));
  const bar = el("progress", { max: "1", value: String(job.progress), "aria-label": `Progress of job ${job.id}` });
  const error = el("p", { class: "error", "data-job-error": true, hidden: !job.error, text: job.error || "" });
  const result = el("p", { class: "job-result", "data-job-result": true, hidden: true });
  return el("li", { class: "job", "data-job-id": job.id, "data-job-state": job.state }, head, bar, error, result);
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
const REFRESH_TRIES = 30;

// The operator's page after a job ended: the serving model and the version list are read again
// from a fresh copy of the page. A training's version is loaded by the web workers in the
// background, so the copy is read again (once a second, at most REFRESH_TRIES times) until the
// serving version differs from ``previous``. Returns the version serving at the end.
async function refreshOperatorPage(previous, waitForNew) {
  for (let attempt = 0; attempt < REFRESH_TRIES; attempt += 1) {
    const response = await fetch(location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) return null;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const serving = fresh.getElementById("serving-details");
    const versions = fresh.getElementById("versions-list");
    if (!serving || !versions) return null;
    const current = serving.dataset.servingVersion;
    if (!waitForNew || current !== previous || attempt === REFRESH_TRIES - 1) {
      document.getElementById("serving-details")?.replaceWith(serving);
      document.getElementById("versions-list")?.replaceWith(versions);
      localiseTimes(serving);
      return current;
    }
    await sleep(1000);
  }
  return null;
}

function setUpJobs() {
  document.querySelectorAll("[data-job-id]").forEach(followJob);
  const list = document.getElementById("jobs");
  const status = document.getElementById("queue-status");
  const servingDetails = document.getElementById("serving-details");
  if (list && status && servingDetails) {
    list.addEventListener("job-ended", async (event) => {
      const job = event.detail;
      const before = document.getElementById("serving-details").dataset.servingVersion;
      if (job.state !== "done") {
        status.textContent = `Job #${job.id} ${job.state}${job.error ? `: ${job.error}` : "."}`;
        return;
      }
      status.textContent = `Job #${job.id} done; reading the serving model…`;
      const serving = await refreshOperatorPage(before, job.kind === "train");
      status.textContent = serving ? `Job #${job.id} done; serving ${serving}.` : `Job #${job.id} done.`;
    });
  }
  document.querySelectorAll("button[data-queue-job]").forEach((button) => {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const data = await api("POST", `/api/v1/admin/${button.dataset.queueJob}`);
        list.querySelector(".empty")?.remove();
        const item = jobItem(data.job);
        list.prepend(item);
        followJob(item);
        status.textContent = `Job #${data.job.id} queued.`;
      } catch (error) {
        status.textContent = error.message;
      } finally {
        button.disabled = false;
      }
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpSearch();
  setUpAddArtist();
  setUpRecommendations();
  setUpJobs();
  setUpPlaylist();
  setUpSpotifyImport();
  setUpArtistSongs();
  localiseTimes();
});
