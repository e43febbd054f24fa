/* Drawn signatures: a canvas pad per signer, driven by Pointer Events (finger, pen and mouse alike).
 *
 * Strokes are kept as arrays of [x, y] normalised to 0..1 of the pad, so a rotation or a resize only
 * redraws them at the new size; they are sent with a PNG of the drawing to the data-url of the pad:
 * POST {role, signer_name, png, strokes} as JSON with the X-CSRFToken header.
 * Markup: .sigpad[data-sigpad][data-role][data-url][data-msg-*] > input.sig-name, canvas.sig-canvas,
 * button.sig-clear, button.sig-save, .sig-msg, figure.sig-saved > img.sig-image + figcaption.
 */
(function () {
  "use strict";

  var EXPORT_WIDTH = 900; // PNG width, whatever the screen: the minutes need the same size from every tablet
  var LINE = 0.006; // line width as a share of the pad width

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function round(value) {
    return Math.round(Math.min(Math.max(value, 0), 1) * 10000) / 10000;
  }

  function drawStrokes(ctx, strokes, width, height) {
    ctx.clearRect(0, 0, width, height);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#0b1f4d";
    ctx.fillStyle = "#0b1f4d";
    ctx.lineWidth = Math.max(1.5, width * LINE);
    strokes.forEach(function (stroke) {
      if (!stroke.length) { return; }
      if (stroke.length === 1) {
        ctx.beginPath();
        ctx.arc(stroke[0][0] * width, stroke[0][1] * height, ctx.lineWidth / 2, 0, 2 * Math.PI);
        ctx.fill();
        return;
      }
      ctx.beginPath();
      ctx.moveTo(stroke[0][0] * width, stroke[0][1] * height);
      for (var i = 1; i < stroke.length; i++) {
        ctx.lineTo(stroke[i][0] * width, stroke[i][1] * height);
      }
      ctx.stroke();
    });
  }

  function SignaturePad(root) {
    this.root = root;
    this.canvas = root.querySelector(".sig-canvas");
    this.ctx = this.canvas.getContext("2d");
    this.nameInput = root.querySelector(".sig-name");
    this.message = root.querySelector(".sig-msg");
    this.saveButton = root.querySelector(".sig-save");
    this.strokes = [];
    this.current = null;
    this.pointerId = null;
    this.width = 0;
    this.height = 0;
    this.bind();
    this.resize();
  }

  SignaturePad.prototype.bind = function () {
    var pad = this;
    var canvas = this.canvas;
    canvas.addEventListener("pointerdown", function (event) { pad.start(event); });
    canvas.addEventListener("pointermove", function (event) { pad.move(event); });
    ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (type) {
      canvas.addEventListener(type, function (event) { pad.end(event); });
    });
    // A long press must not open a context menu in the middle of a signature.
    canvas.addEventListener("contextmenu", function (event) { event.preventDefault(); });
    this.root.querySelector(".sig-clear").addEventListener("click", function () { pad.clear(); });
    this.saveButton.addEventListener("click", function () { pad.save(); });
    if (window.ResizeObserver) {
      new ResizeObserver(function () { pad.resize(); }).observe(canvas);
    } else {
      window.addEventListener("resize", function () { pad.resize(); });
    }
    window.addEventListener("orientationchange", function () { pad.resize(); });
  };

  SignaturePad.prototype.resize = function () {
    var rect = this.canvas.getBoundingClientRect();
    if (!rect.width || !rect.height) { return; }
    var ratio = window.devicePixelRatio || 1;
    this.width = rect.width;
    this.height = rect.height;
    this.canvas.width = Math.round(rect.width * ratio);
    this.canvas.height = Math.round(rect.height * ratio);
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.redraw();
  };

  SignaturePad.prototype.redraw = function () {
    drawStrokes(this.ctx, this.strokes, this.width, this.height);
  };

  SignaturePad.prototype.point = function (event) {
    var rect = this.canvas.getBoundingClientRect();
    return [round((event.clientX - rect.left) / rect.width), round((event.clientY - rect.top) / rect.height)];
  };

  SignaturePad.prototype.start = function (event) {
    if (event.pointerType === "mouse" && event.button !== 0) { return; }
    if (this.current !== null) { return; } // a second finger does not start a second line
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    this.pointerId = event.pointerId;
    this.current = [this.point(event)];
    this.strokes.push(this.current);
    this.say("", "");
    this.redraw();
  };

  SignaturePad.prototype.move = function (event) {
    if (this.current === null || event.pointerId !== this.pointerId) { return; }
    event.preventDefault();
    // Coalesced events keep fast pen strokes smooth on devices that report more points than frames.
    var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    if (!events.length) { events = [event]; }
    var pad = this;
    events.forEach(function (e) {
      var p = pad.point(e);
      var last = pad.current[pad.current.length - 1];
      if (p[0] !== last[0] || p[1] !== last[1]) { pad.current.push(p); }
    });
    this.redraw();
  };

  SignaturePad.prototype.end = function (event) {
    if (this.current === null || event.pointerId !== this.pointerId) { return; }
    this.current = null;
    this.pointerId = null;
  };

  SignaturePad.prototype.isEmpty = function () {
    return !this.strokes.some(function (stroke) { return stroke.length >= 2; });
  };

  SignaturePad.prototype.clear = function () {
    this.strokes = [];
    this.current = null;
    this.redraw();
    this.say("", "");
  };

  SignaturePad.prototype.say = function (text, kind) {
    this.message.textContent = text;
    this.message.classList.toggle("is-error", kind === "error");
    this.message.classList.toggle("is-ok", kind === "ok");
  };

  SignaturePad.prototype.png = function () {
    var height = Math.round(EXPORT_WIDTH * (this.height / this.width || 1 / 3));
    var out = document.createElement("canvas");
    out.width = EXPORT_WIDTH;
    out.height = height;
    drawStrokes(out.getContext("2d"), this.strokes, EXPORT_WIDTH, height);
    return out.toDataURL("image/png");
  };

  SignaturePad.prototype.save = function () {
    var pad = this;
    var data = this.root.dataset;
    if (this.isEmpty()) {
      this.say(data.msgEmpty, "error");
      this.canvas.focus();
      return;
    }
    var name = this.nameInput.value.trim();
    if (!name) {
      this.say(data.msgName, "error");
      this.nameInput.focus();
      return;
    }
    if (data.offline !== undefined) {
      // The offline page keeps the signature on the tablet and sends it with the inspection (offline.js).
      this.root.dispatchEvent(new CustomEvent("sigpad:save", {
        bubbles: true,
        detail: { role: data.role, signer_name: name, png: this.png(), strokes: this.strokes }
      }));
      return;
    }
    this.saveButton.disabled = true;
    this.say(data.msgSaving, "");
    fetch(data.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ role: data.role, signer_name: name, png: this.png(), strokes: this.strokes })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) { throw new Error(body.message || data.msgFailed); }
        return body;
      });
    }).then(function (body) {
      pad.showSaved(body, name);
      pad.say(body.message || data.msgSaved, "ok");
    }).catch(function (error) {
      pad.say(error && error.message ? error.message : data.msgFailed, "error");
    }).then(function () {
      pad.saveButton.disabled = false;
    });
  };

  SignaturePad.prototype.showSaved = function (body, name) {
    var figure = this.root.querySelector(".sig-saved");
    if (figure) {
      figure.querySelector("img").src = body.url;
      var caption = figure.querySelector("figcaption");
      if (caption) { caption.textContent = name; }
      figure.hidden = false;
    }
    // Saving bumps the inspection's revision; the finishing form must not mistake that for someone else's change.
    if (body.revision !== undefined) {
      document.querySelectorAll("[data-revision-field]").forEach(function (input) {
        input.value = String(body.revision);
      });
    }
  };

  function attach(root) {
    root.signaturePad = new SignaturePad(root);
    return root.signaturePad;
  }

  function init() {
    document.querySelectorAll("[data-sigpad]").forEach(attach);
  }

  // The offline form draws one pad per person of the team as the team is written (static/js/offline.js).
  window.QASignature = { attach: attach };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
