/*
 * The schedule grid, enhanced. Without this script the grid is a plain form of
 * 7 x 96 checkboxes (name "q", value "day:minute") and still works.
 *
 * Mouse and pen: a click toggles a cell; pressing on a cell and dragging paints a
 * RECTANGLE (the days and quarter-hours between the first cell and the cell under the
 * pointer) with the first cell's new state; cells that leave the rectangle during the
 * drag get their earlier state back. Touch: a tap toggles, a swipe scrolls the grid.
 * Headers: clicking an hour toggles that hour on every day, clicking a day toggles the
 * whole day (all on, unless all were on already).
 * Keyboard: one cell is in the tab order (roving tabindex); arrow keys move, Home/End
 * go to the ends of the day, Space or Enter toggles, and Shift+arrows paint the focused
 * cell's state over the rectangle swept from where Shift was first used.
 * Nothing is saved until the form is submitted; the summary under the grid updates live.
 */
(function () {
  "use strict";

  var DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  var QUARTERS = 96;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(minute) { return pad(Math.floor(minute / 60)) + ":" + pad(minute % 60); }

  function init(table) {
    var form = table.closest("form");
    var cells = Array.prototype.slice.call(table.querySelectorAll("input[type=checkbox]"));
    if (cells.length !== 7 * QUARTERS) { return; }
    var grid = [];  // grid[day][quarter] -> input
    cells.forEach(function (input) {
      var parts = input.value.split(":");
      var day = +parts[0], quarter = +parts[1] / 15;
      input.dataset.day = day;
      input.dataset.quarter = quarter;
      (grid[day] = grid[day] || [])[quarter] = input;
      input.tabIndex = -1;
    });
    var summary = document.getElementById("schedule-summary");
    var readout = form.querySelector(".grid-readout");
    var saved = snapshot();
    var focused = cells.filter(function (c) { return c.checked; })[0] || grid[0][36];
    focused.tabIndex = 0;

    form.querySelectorAll("[hidden].grid-tools, .js-only[hidden]").forEach(function (el) { el.hidden = false; });
    document.querySelectorAll("#grid-help .js-only").forEach(function (el) { el.hidden = false; });

    function snapshot() { return cells.map(function (c) { return c.checked; }); }
    function restore(states) { cells.forEach(function (c, i) { c.checked = states[i]; }); }
    function pos(input) { return { day: +input.dataset.day, quarter: +input.dataset.quarter }; }

    function setFocus(input) {
      focused.tabIndex = -1;
      focused = input;
      input.tabIndex = 0;
      input.focus({ preventScroll: false });
      show(input);
    }

    function show(input) {
      if (readout) { readout.textContent = input.getAttribute("aria-label") + (input.checked ? " · on" : " · off"); }
    }

    function paintRect(anchor, corner, state, base) {
      var a = pos(anchor), b = pos(corner);
      var d0 = Math.min(a.day, b.day), d1 = Math.max(a.day, b.day);
      var q0 = Math.min(a.quarter, b.quarter), q1 = Math.max(a.quarter, b.quarter);
      cells.forEach(function (c, i) {
        var p = pos(c);
        var inside = p.day >= d0 && p.day <= d1 && p.quarter >= q0 && p.quarter <= q1;
        c.checked = inside ? state : base[i];
      });
      changed();
    }

    // The same words as the server: consecutive days with the same hours are joined.
    function describe() {
      var perDay = [];
      for (var d = 0; d < 7; d++) {
        var ranges = [], start = null;
        for (var q = 0; q <= QUARTERS; q++) {
          var on = q < QUARTERS && grid[d][q].checked;
          if (on && start === null) { start = q; }
          if (!on && start !== null) { ranges.push(clock(start * 15) + "–" + clock(q * 15)); start = null; }
        }
        perDay.push(ranges.join(", "));
      }
      var lines = [];
      for (var day = 0; day < 7;) {
        var last = day;
        while (last + 1 < 7 && perDay[last + 1] === perDay[day]) { last++; }
        if (perDay[day]) { lines.push((last === day ? DAYS[day] : DAYS[day] + "–" + DAYS[last]) + " " + perDay[day]); }
        day = last + 1;
      }
      return lines;
    }

    function changed() {
      var now = snapshot();
      var dirty = now.some(function (v, i) { return v !== saved[i]; });
      var lines = describe();
      summary.classList.toggle("dirty", dirty);
      summary.textContent = "";
      var strong = document.createElement("strong");
      if (lines.length) {
        summary.append(dirty ? "Not saved yet: will run only in " : "Runs only in these hours: ");
        strong.textContent = lines.join("; ");
        summary.append(strong, ".");
      } else {
        strong.textContent = "No hours selected: this campaign " + (dirty ? "will run" : "runs") + " at any hour";
        summary.append(dirty ? "Not saved yet: " : "", strong, ", every day, 00:00–24:00.");
      }
    }

    // --- mouse and pen painting -------------------------------------------------------
    var drag = null;  // {anchor, state, base, pointerId}
    var mouseApplied = false;  // a mouse or pen press already applied the new state

    table.addEventListener("pointerdown", function (e) {
      mouseApplied = false;
      var input = e.target.closest("input[type=checkbox]");
      if (!input || e.button !== 0 || e.pointerType === "touch") { return; }  // taps toggle natively; swipes scroll
      e.preventDefault();  // no text selection while painting
      mouseApplied = true;
      var base = snapshot();
      drag = { anchor: input, state: !input.checked, base: base, pointerId: e.pointerId };
      paintRect(input, input, drag.state, base);
      setFocus(input);
    });

    table.addEventListener("pointermove", function (e) {
      if (!drag || e.pointerId !== drag.pointerId) { return; }
      var under = document.elementFromPoint(e.clientX, e.clientY);
      var input = under && under.closest ? under.closest("input[type=checkbox]") : null;
      if (input && table.contains(input)) { paintRect(drag.anchor, input, drag.state, drag.base); show(input); }
    });

    function endDrag(e) {
      if (drag && e.pointerId === drag.pointerId) {
        if (e.type === "pointercancel") { restore(drag.base); changed(); }
        drag = null;
      }
    }
    document.addEventListener("pointerup", endDrag);
    document.addEventListener("pointercancel", endDrag);

    table.addEventListener("click", function (e) {
      var input = e.target.closest("input[type=checkbox]");
      if (!input) { return; }
      if (mouseApplied && e.detail > 0) {
        mouseApplied = false;
        e.preventDefault();  // the press painted already; the native toggle would undo it
        return;
      }
      // Space, touch taps and assistive technology: the native toggle stands (it is already applied here).
      focused.tabIndex = -1;
      focused = input;
      input.tabIndex = 0;
      changed();
      show(input);
    });

    table.addEventListener("mouseover", function (e) {
      var input = e.target.closest("input[type=checkbox]");
      if (input && !drag) { show(input); }
    });

    // --- keyboard --------------------------------------------------------------------
    var keyPaint = null;  // {anchor, state, base}
    var MOVES = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };

    table.addEventListener("keydown", function (e) {
      var input = e.target.closest("input[type=checkbox]");
      if (!input) { return; }
      var p = pos(input);
      if (e.key === "Enter") {
        e.preventDefault();  // Enter would submit the form; here it toggles like Space
        input.checked = !input.checked;
        changed(); show(input);
        return;
      }
      var target = null;
      if (MOVES[e.key]) {
        var m = MOVES[e.key];
        target = grid[Math.max(0, Math.min(6, p.day + m[0]))][Math.max(0, Math.min(QUARTERS - 1, p.quarter + m[1]))];
      } else if (e.key === "Home") {
        target = grid[p.day][0];
      } else if (e.key === "End") {
        target = grid[p.day][QUARTERS - 1];
      }
      if (!target) { return; }
      e.preventDefault();
      if (e.shiftKey) {
        if (!keyPaint) { keyPaint = { anchor: input, state: input.checked, base: snapshot() }; }
        paintRect(keyPaint.anchor, target, keyPaint.state, keyPaint.base);
      } else {
        keyPaint = null;
      }
      setFocus(target);
    });

    table.addEventListener("keyup", function (e) {
      if (e.key === "Shift") { keyPaint = null; }
    });
    table.addEventListener("focusin", function (e) {
      var input = e.target.closest("input[type=checkbox]");
      if (input) { show(input); }
    });

    // --- headers: toggle an hour on every day, or a whole day --------------------------
    function toggleGroup(inputs) {
      var allOn = inputs.every(function (c) { return c.checked; });
      inputs.forEach(function (c) { c.checked = !allOn; });
      changed();
    }

    table.querySelectorAll("thead th[data-hour]").forEach(function (th) {
      var hour = +th.dataset.hour;
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      button.setAttribute("aria-label", "Toggle " + clock(hour * 60) + "–" + clock(hour * 60 + 60) + " on every day");
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var inputs = [];
        for (var d = 0; d < 7; d++) { for (var q = hour * 4; q < hour * 4 + 4; q++) { inputs.push(grid[d][q]); } }
        toggleGroup(inputs);
      });
    });

    table.querySelectorAll("tbody th[data-day]").forEach(function (th) {
      var day = +th.dataset.day;
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      button.setAttribute("aria-label", "Toggle all of " + th.parentNode.querySelector("input").getAttribute("aria-label").split(" ")[0]);
      th.appendChild(button);
      button.addEventListener("click", function () { toggleGroup(grid[day].slice()); });
    });

    // --- presets -----------------------------------------------------------------------
    form.querySelectorAll("[data-preset]").forEach(function (button) {
      button.addEventListener("click", function () {
        var preset = button.dataset.preset;
        cells.forEach(function (c) {
          var p = pos(c);
          c.checked = preset === "all" ||
            (preset === "weekdays" && p.day < 5 && p.quarter >= 36 && p.quarter < 68);
        });
        changed();
      });
    });

    form.addEventListener("submit", function () { saved = snapshot(); });
    window.addEventListener("beforeunload", function (e) {
      var dirty = snapshot().some(function (v, i) { return v !== saved[i]; });
      if (dirty) { e.preventDefault(); e.returnValue = ""; }
    });
  }

  // On a narrow screen the grid scrolls sideways: start it an hour before the first scheduled quarter.
  function scrollToSchedule(table) {
    var box = table.closest(".grid-scroll");
    var first = null;
    table.querySelectorAll("input[type=checkbox]:checked").forEach(function (c) {
      var minute = +c.value.split(":")[1];
      if (first === null || minute < first) { first = minute; }
    });
    if (!box || box.scrollWidth <= box.clientWidth || first === null) { return; }
    var target = table.querySelector('input[value="0:' + Math.max(0, first - 60) + '"]');
    var dayColumn = table.querySelector("tbody th");
    box.scrollLeft = target.closest("td").offsetLeft - (dayColumn ? dayColumn.offsetWidth : 0);
  }

  function start() {
    document.querySelectorAll("table.schedule-grid").forEach(scrollToSchedule);
    document.querySelectorAll("table.schedule-grid[data-editable]").forEach(init);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
