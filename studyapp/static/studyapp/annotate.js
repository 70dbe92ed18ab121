/* Concordance item page: labelling by mouse and keyboard, drafts, time on task, submit.
 *
 * No build step and no dependency but KaTeX (vendored). State is kept in
 * `state`, saved to localStorage at once and to the server (debounced) so a
 * reload or a lost connection restores it. The server validates and stores
 * the submission; a retry of a stored submission returns it (idempotent).
 */
(function () {
  "use strict";

  var page = JSON.parse(document.getElementById("page-data").textContent);
  var form = document.getElementById("annotation");
  var rows = Array.prototype.slice.call(form.querySelectorAll(".row"));
  var isReasoning = page.kind === "reasoning";
  var isPairwise = page.kind === "pairwise";
  var stopAtError = isReasoning && page.labelMode === "first_error";
  var storageKey = "concordance:draft:" + page.assignment;
  var saveState = document.getElementById("save-state");
  var timerEl = document.getElementById("timer");
  var submitButton = document.getElementById("submit");
  var commentBox = document.getElementById("comment");
  var trajectoryDetails = document.getElementById("trajectory");

  var state = { values: {}, comments: {}, trajectory_rating: null, comment: "", current: 0 };
  var seconds = Number(page.timeOnTask) || 0;
  var savedAt = 0;
  var saveTimer = null;
  var dirty = false;
  var submitting = false;
  var finished = false;

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  function headers() {
    return { "Content-Type": "application/json", "X-CSRFToken": cookie("csrftoken") };
  }

  /* ---- math ---------------------------------------------------------- */
  if (window.katex) {
    document.querySelectorAll(".math").forEach(function (el) {
      try {
        window.katex.render(el.textContent, el, {
          displayMode: el.classList.contains("math-display"),
          throwOnError: false,
          trust: false,
        });
      } catch (e) {
        /* leave the TeX source visible */
      }
    });
  }

  /* ---- restore ------------------------------------------------------- */
  function readLocal() {
    try {
      return JSON.parse(window.localStorage.getItem(storageKey) || "null");
    } catch (e) {
      return null;
    }
  }

  (function restore() {
    var server = page.draft && page.draft.state ? page.draft : null;
    var local = readLocal();
    var best = server;
    if (local && local.state && (!best || (local.savedAt || 0) > (best.savedAt || 0))) {
      best = local;
    }
    if (best) {
      state = Object.assign(state, best.state);
      savedAt = best.savedAt || 0;
    }
    seconds = Math.max(seconds, (server && server.seconds) || 0, (local && local.seconds) || 0);
  })();

  /* ---- rendering the state ------------------------------------------- */
  function firstError() {
    for (var i = 0; i < rows.length; i++) {
      if (state.values[rows[i].dataset.key] === -1) return i;
    }
    return -1;
  }

  function refresh() {
    var fe = isReasoning ? firstError() : -1;
    rows.forEach(function (row, i) {
      var key = row.dataset.key;
      var value = state.values[key];
      var after = stopAtError && fe !== -1 && i > fe;
      row.classList.toggle("after-error", after);
      row.classList.toggle("labelled", value !== undefined && value !== null);
      row.classList.toggle("current", i === state.current);
      row.querySelectorAll(".choice").forEach(function (b) {
        b.setAttribute("aria-pressed", String(Number(b.dataset.value) === value));
        b.disabled = after;
      });
      var c = row.querySelector(".step-comment");
      if (c) {
        if (document.activeElement !== c) c.value = state.comments[key] || "";
        if (state.comments[key]) c.hidden = false;
      }
    });
    if (isReasoning) {
      var out = document.getElementById("first-error");
      if (fe === -1) {
        var all = rows.every(function (r) {
          return state.values[r.dataset.key] !== undefined;
        });
        out.textContent = all ? "none (every step is correct or neutral)" : "none yet";
      } else {
        out.innerHTML = "";
        var a = document.createElement("a");
        a.href = "#" + rows[fe].id;
        a.textContent = "step " + (Number(rows[fe].dataset.key) + 1);
        out.appendChild(a);
      }
    }
    document.querySelectorAll("input[name=trajectory_rating]").forEach(function (r) {
      r.checked = Number(r.value) === state.trajectory_rating;
    });
    if (commentBox && document.activeElement !== commentBox) commentBox.value = state.comment || "";
  }

  function focusRow(i, scroll) {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    state.current = i;
    var row = rows[i];
    if (trajectoryDetails && trajectoryDetails.contains(row)) trajectoryDetails.open = true;
    refresh();
    row.focus({ preventScroll: true });
    if (scroll !== false) row.scrollIntoView({ block: "nearest" });
  }

  function usable(i) {
    return !rows[i].classList.contains("after-error");
  }

  function setValue(i, value) {
    if (!rows[i] || !usable(i)) return;
    state.values[rows[i].dataset.key] = value;
    clearError(rows[i]);
    changed();
    refresh();
    // Move on to the next row that still takes a label.
    var next = i + 1;
    if (next < rows.length && usable(next)) focusRow(next);
    else focusRow(i, false);
  }

  /* ---- saving -------------------------------------------------------- */
  function snapshot() {
    savedAt = Date.now();
    return { state: state, seconds: Math.round(seconds), savedAt: savedAt };
  }

  function saveLocal() {
    try {
      window.localStorage.setItem(storageKey, JSON.stringify(snapshot()));
    } catch (e) {
      /* private mode or full: the server copy remains */
    }
  }

  function saveServer() {
    saveTimer = null;
    if (finished) return Promise.resolve();
    var body = JSON.stringify({ draft: snapshot(), time_on_task: Math.round(seconds) });
    saveState.textContent = "saving…";
    return fetch(page.urls.draft, { method: "PUT", headers: headers(), body: body, keepalive: true })
      .then(function (r) {
        if (r.ok) {
          dirty = false;
          saveState.textContent = "draft saved";
        } else if (r.status === 409) {
          saveState.textContent = "this item is no longer yours";
        } else {
          saveState.textContent = "not saved (kept in this browser)";
        }
      })
      .catch(function () {
        saveState.textContent = "offline: kept in this browser";
      });
  }

  function changed() {
    dirty = true;
    saveLocal();
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(saveServer, 700);
  }

  /* ---- time on task -------------------------------------------------- */
  function showTime() {
    var s = Math.floor(seconds);
    timerEl.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  setInterval(function () {
    if (document.visibilityState !== "visible" || finished) return;
    seconds += 1;
    showTime();
    if (Math.floor(seconds) % 10 === 0) saveLocal();
    if (Math.floor(seconds) % 30 === 0) saveServer();
  }, 1000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && !finished) {
      saveLocal();
      saveServer();
    }
  });

  /* ---- errors -------------------------------------------------------- */
  function clearError(row) {
    var e = row.querySelector(".error");
    if (e) e.textContent = "";
    row.classList.remove("invalid");
  }

  function clearErrors() {
    form.querySelectorAll(".error").forEach(function (e) {
      e.textContent = "";
    });
    rows.forEach(function (r) {
      r.classList.remove("invalid");
    });
  }

  function showErrors(body) {
    clearErrors();
    var errors = (body && body.errors) || {};
    var perRow = errors.steps || errors.ratings || {};
    var first = null;
    Object.keys(perRow).forEach(function (key) {
      var row = form.querySelector('.row[data-key="' + CSS.escape(key) + '"]');
      if (row) {
        row.classList.add("invalid");
        row.querySelector(".error").textContent = perRow[key];
        if (first === null) first = rows.indexOf(row);
      }
    });
    Object.keys(errors).forEach(function (field) {
      var target = form.querySelector('[data-error-for="' + field + '"]');
      if (target && typeof errors[field] === "string") target.textContent = errors[field];
    });
    var n = Object.keys(perRow).length;
    document.getElementById("form-error").textContent =
      n > 0
        ? "Please fix the " + n + " marked " + (isReasoning ? "step" : "criterion") + (n > 1 ? "s" : "") + "."
        : (body && body.detail) || "Something went wrong.";
    if (first !== null) focusRow(first);
  }

  /* ---- submit, skip, flag -------------------------------------------- */
  function payload() {
    var body = { comment: state.comment || "", time_on_task: Math.round(seconds) };
    if (isReasoning) {
      body.steps = {};
      body.step_comments = {};
      Object.keys(state.values).forEach(function (k) {
        var i = rows.findIndex(function (r) {
          return r.dataset.key === k;
        });
        if (i !== -1 && !(stopAtError && rows[i].classList.contains("after-error"))) {
          body.steps[k] = state.values[k];
        }
      });
      Object.keys(state.comments).forEach(function (k) {
        if (state.comments[k]) body.step_comments[k] = state.comments[k];
      });
      if (state.trajectory_rating !== null) body.trajectory_rating = state.trajectory_rating;
    } else {
      body.ratings = state.values;
    }
    return body;
  }

  function done() {
    finished = true;
    try {
      window.localStorage.removeItem(storageKey);
    } catch (e) {
      /* nothing to clean */
    }
    // The next item is claimed by a POST (a GET of that URL claims nothing).
    document.getElementById("next-form").submit();
  }

  function submit() {
    if (submitting) return;
    submitting = true;
    submitButton.disabled = true;
    document.getElementById("form-error").textContent = "";
    fetch(page.urls.submit, { method: "POST", headers: headers(), body: JSON.stringify(payload()) })
      .then(function (r) {
        return r.json().then(
          function (body) {
            return { status: r.status, body: body };
          },
          function () {
            return { status: r.status, body: null };
          }
        );
      })
      .then(function (res) {
        if (res.status === 200 || res.status === 201) return done();
        submitting = false;
        submitButton.disabled = false;
        if (res.status === 409) {
          document.getElementById("form-error").textContent =
            (res.body && res.body.detail) || "This item is no longer yours.";
          return;
        }
        showErrors(res.body);
      })
      .catch(function () {
        submitting = false;
        submitButton.disabled = false;
        document.getElementById("form-error").textContent =
          "No connection: your work is kept in this browser. Try again in a moment.";
      });
  }

  function post(url, body) {
    return fetch(url, { method: "POST", headers: headers(), body: JSON.stringify(body || {}) });
  }

  document.getElementById("skip").addEventListener("click", function () {
    post(page.urls.skip, {}).then(function (r) {
      if (r.ok || r.status === 409) done();
    });
  });
  var flagForm = document.getElementById("flag-form");
  document.getElementById("flag-open").addEventListener("click", function () {
    flagForm.hidden = false;
    document.getElementById("flag-reason").focus();
  });
  document.getElementById("flag-cancel").addEventListener("click", function () {
    flagForm.hidden = true;
  });
  flagForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var reason = document.getElementById("flag-reason").value;
    post(page.urls.flag, { reason: reason }).then(function (r) {
      if (r.ok || r.status === 409) return done();
      return r.json().then(function (body) {
        document.getElementById("flag-error").textContent =
          (body.errors && body.errors.reason) || body.detail || "Could not flag.";
      });
    });
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    submit();
  });

  /* ---- mouse --------------------------------------------------------- */
  rows.forEach(function (row, i) {
    row.querySelectorAll(".choice").forEach(function (b) {
      b.addEventListener("click", function () {
        state.current = i;
        setValue(i, Number(b.dataset.value));
      });
    });
    row.addEventListener("click", function (e) {
      if (e.target.closest("textarea, button, a")) return;
      focusRow(i, false);
    });
    var toggle = row.querySelector(".comment-toggle");
    var box = row.querySelector(".step-comment");
    if (toggle && box) {
      toggle.addEventListener("click", function () {
        box.hidden = false;
        box.focus();
      });
      box.addEventListener("input", function () {
        state.comments[row.dataset.key] = box.value;
        changed();
      });
    }
  });
  document.querySelectorAll("input[name=trajectory_rating]").forEach(function (r) {
    r.addEventListener("change", function () {
      state.trajectory_rating = Number(r.value);
      changed();
    });
  });
  if (commentBox) {
    commentBox.addEventListener("input", function () {
      state.comment = commentBox.value;
      changed();
    });
  }

  /* ---- keyboard ------------------------------------------------------ */
  var reasoningKeys = { "1": 1, "+": 1, "=": 1, "2": 0, "0": 0, "3": -1, "-": -1 };
  var pairKeys = { "1": 1, "2": 0, "3": -1 };

  document.addEventListener("keydown", function (e) {
    var typing = e.target.closest && e.target.closest("textarea, input[type=text]");
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit();
      return;
    }
    if (typing) {
      if (e.key === "Escape") {
        e.target.blur();
        focusRow(state.current, false);
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var handled = true;
    if (e.key === "j" || e.key === "ArrowDown") focusRow(state.current + 1);
    else if (e.key === "k" || e.key === "ArrowUp") focusRow(state.current - 1);
    else if (e.key === "c" && isReasoning) {
      var box = rows[state.current] && rows[state.current].querySelector(".step-comment");
      if (box) {
        box.hidden = false;
        box.focus();
      }
    } else if (e.key === "t" && trajectoryDetails) trajectoryDetails.open = !trajectoryDetails.open;
    else if (isReasoning && Object.prototype.hasOwnProperty.call(reasoningKeys, e.key)) {
      setValue(state.current, reasoningKeys[e.key]);
    } else if (isPairwise && Object.prototype.hasOwnProperty.call(pairKeys, e.key)) {
      // 1 first (left) response, 2 tie, 3 second (right); the server maps screen sides to A/B.
      var pairRow = rows[state.current];
      var pairValue = pairKeys[e.key];
      if (pairRow && pairRow.querySelector('.choice[data-value="' + pairValue + '"]')) {
        setValue(state.current, pairValue);
      }
    } else if (!isReasoning && /^[0-9]$/.test(e.key)) {
      var row = rows[state.current];
      var button = row && row.querySelector('.choice[data-value="' + e.key + '"]');
      if (button) setValue(state.current, Number(e.key));
    } else handled = false;
    if (handled) e.preventDefault();
  });

  showTime();
  refresh();
  focusRow(Math.min(state.current || 0, rows.length - 1), false);
  window.concordancePage = { state: state, ready: true };
})();
