/*
 * A local stand-in for https://assets.crowd.aws/crowd-html-elements.js (the video moderation
 * kit's offline preview and worker portal serve it in that script's place).
 *
 * It defines the crowd elements task templates commonly use and answers with the shapes AWS
 * documents for them (helpers/offline/README.md lists them):
 *   crowd-form             collects the answer; fires a cancelable "submit" event first and
 *                          adds a Submit button when the form has none
 *   crowd-button           form-action="submit" submits its crowd-form
 *   crowd-checkbox         {name: {value: checked}}; boxes sharing a name share one object
 *   crowd-radio-button     {name: {value: checked}} for every button of a crowd-radio-group
 *   crowd-input, crowd-text-area   {name: "text"}; left out when empty
 *   crowd-classifier       {name: {label: "category"}}
 *   crowd-classifier-multi-select  {name: {labels: ["category", ...]}}
 *   native input/select/textarea with a name   {name: "value"} (hidden inputs carry JSON strings)
 *
 * Where the answer goes: the <script> tag that loads this file may carry data-submit-url (the
 * answer is POSTed there as {"answerContent": {...}}) and data-done-url (where to go after).
 * Without them the answer is shown under the form and kept in window.crowdStandIn.lastAnswer.
 * Every submission also fires "crowd-stand-in-answer" on the crowd-form (detail: the answer).
 */
(function () {
  "use strict";
  if (window.crowdStandIn) return;
  var script = document.currentScript;
  var config = {
    submitUrl: script && script.dataset ? script.dataset.submitUrl || "" : "",
    doneUrl: script && script.dataset ? script.dataset.doneUrl || "" : ""
  };

  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }
  function attr(el, name, fallback) {
    return el.hasAttribute(name) ? el.getAttribute(name) : fallback;
  }
  function parseList(text) {
    if (!text) return [];
    try { return JSON.parse(text); } catch (err) { /* try the single-quoted form of AWS samples */ }
    try { return JSON.parse(text.replace(/'/g, '"')); } catch (err) { return []; }
  }
  var STYLE = ":host{display:inline-block}button{font:inherit}";

  class CrowdButton extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      var root = this.attachShadow({ mode: "open" });
      var style = document.createElement("style");
      style.textContent = STYLE + "button{padding:6px 16px;border-radius:4px;border:1px solid #888;cursor:pointer}" +
        ":host([variant=primary]) button{background:#ec7211;border-color:#ec7211;color:#fff;font-weight:600}";
      var button = document.createElement("button");
      button.type = "button";
      button.appendChild(document.createElement("slot"));
      root.appendChild(style);
      root.appendChild(button);
      this.addEventListener("click", function (event) {
        if (this.hasAttribute("disabled")) { event.stopImmediatePropagation(); return; }
        var form = this.closest("crowd-form");
        var action = this.getAttribute("form-action");
        if (form && action === "submit") form.submit();
        else if (form && action === "reset") form.reset();
      });
    }
  }

  class CrowdCheckbox extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      var root = this.attachShadow({ mode: "open" });
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.checked = this.hasAttribute("checked");
      box.disabled = this.hasAttribute("disabled");
      this._box = box;
      label.appendChild(box);
      label.appendChild(document.createElement("slot"));
      root.appendChild(label);
    }
    get checked() { return this._box ? this._box.checked : this.hasAttribute("checked"); }
    set checked(value) { if (this._box) this._box.checked = !!value; else this.toggleAttribute("checked", !!value); }
    get value() { return attr(this, "value", "on"); }
  }

  class CrowdRadioButton extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      var root = this.attachShadow({ mode: "open" });
      var label = document.createElement("label");
      var radio = document.createElement("input");
      radio.type = "radio";
      radio.checked = this.hasAttribute("checked");
      radio.disabled = this.hasAttribute("disabled");
      this._radio = radio;
      var self = this;
      radio.addEventListener("change", function () { if (radio.checked) self._choose(); });
      label.appendChild(radio);
      label.appendChild(document.createElement("slot"));
      root.appendChild(label);
    }
    _choose() {
      var group = this.closest("crowd-radio-group") || this.parentNode;
      var self = this;
      group.querySelectorAll("crowd-radio-button").forEach(function (other) {
        if (other !== self) other.checked = false;
      });
    }
    get checked() { return this._radio ? this._radio.checked : this.hasAttribute("checked"); }
    set checked(value) {
      if (this._radio) this._radio.checked = !!value; else this.toggleAttribute("checked", !!value);
      if (value) this._choose();
    }
    get value() { return attr(this, "value", "on"); }
  }

  class CrowdRadioGroup extends HTMLElement {}

  function textField(multiline) {
    return class extends HTMLElement {
      connectedCallback() {
        if (this.shadowRoot) return;
        var root = this.attachShadow({ mode: "open" });
        var label = document.createElement("label");
        label.style.display = "block";
        var caption = document.createElement("span");
        caption.textContent = attr(this, "label", "");
        var field = document.createElement(multiline ? "textarea" : "input");
        if (!multiline) field.type = attr(this, "type", "text");
        if (multiline && this.hasAttribute("rows")) field.rows = Number(this.getAttribute("rows"));
        field.placeholder = attr(this, "placeholder", "");
        field.value = attr(this, "value", "");
        if (this.hasAttribute("max-length")) field.maxLength = Number(this.getAttribute("max-length"));
        field.disabled = this.hasAttribute("disabled");
        field.style.width = "100%";
        this._field = field;
        label.appendChild(caption);
        label.appendChild(field);
        root.appendChild(label);
      }
      get value() { return this._field ? this._field.value : attr(this, "value", ""); }
      set value(text) { if (this._field) this._field.value = String(text); else this.setAttribute("value", String(text)); }
    };
  }

  function classifier(multi) {
    return class extends HTMLElement {
      connectedCallback() {
        if (this.shadowRoot) return;
        var root = this.attachShadow({ mode: "open" });
        var header = document.createElement("p");
        header.textContent = attr(this, "header", "");
        root.appendChild(header);
        root.appendChild(document.createElement("slot"));
        var name = "c" + Math.random().toString(36).slice(2);
        var self = this;
        this._choices = [];
        parseList(this.getAttribute("categories")).forEach(function (category) {
          var label = document.createElement("label");
          label.style.display = "block";
          var box = document.createElement("input");
          box.type = multi ? "checkbox" : "radio";
          box.name = name;
          box.value = String(category);
          label.appendChild(box);
          label.appendChild(document.createTextNode(" " + String(category)));
          root.appendChild(label);
          self._choices.push(box);
        });
      }
      choose(category) {
        (this._choices || []).forEach(function (box) {
          if (box.value === category) box.checked = true;
          else if (box.type === "radio") box.checked = false;
        });
      }
      get chosen() {
        return (this._choices || []).filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
      }
    };
  }

  var NATIVE_SKIP = { button: 1, submit: 1, reset: 1, image: 1, file: 1 };

  function collect(form) {
    var answer = {};
    function put(name, value) {
      if (Object.prototype.hasOwnProperty.call(answer, name) && typeof value === "string") {
        answer[name] = [].concat(answer[name], value);
      } else {
        answer[name] = value;
      }
    }
    form.querySelectorAll("[name]").forEach(function (el) {
      var name = el.getAttribute("name");
      var tag = el.localName;
      if (tag === "crowd-checkbox" || tag === "crowd-radio-button") {
        var box = answer[name] && typeof answer[name] === "object" && !Array.isArray(answer[name]) ? answer[name] : {};
        box[el.value] = !!el.checked;
        answer[name] = box;
      } else if (tag === "crowd-input" || tag === "crowd-text-area") {
        if (el.value !== "") answer[name] = el.value;
      } else if (tag === "crowd-classifier") {
        if (el.chosen.length) answer[name] = { label: el.chosen[0] };
      } else if (tag === "crowd-classifier-multi-select") {
        answer[name] = { labels: el.chosen };
      } else if (tag === "input") {
        if (el.disabled || NATIVE_SKIP[el.type]) return;
        if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
        put(name, el.value);
      } else if (tag === "select") {
        if (el.disabled) return;
        if (el.multiple) answer[name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
        else put(name, el.value);
      } else if (tag === "textarea") {
        if (!el.disabled) put(name, el.value);
      }
    });
    return answer;
  }

  function missingRequired(form) {
    var missing = [];
    form.querySelectorAll("crowd-input[required], crowd-text-area[required]").forEach(function (el) {
      if (!el.value) missing.push(el.getAttribute("label") || el.getAttribute("name") || el.localName);
    });
    form.querySelectorAll("crowd-radio-group[required]").forEach(function (group) {
      var any = Array.prototype.some.call(group.querySelectorAll("crowd-radio-button"), function (b) { return b.checked; });
      if (!any) missing.push("a choice");
    });
    return missing;
  }

  class CrowdForm extends HTMLElement {
    connectedCallback() {
      var self = this;
      onReady(function () {
        if (!self.querySelector('crowd-button[form-action="submit"]')) {
          var button = document.createElement("crowd-button");
          button.setAttribute("form-action", "submit");
          button.setAttribute("variant", "primary");
          button.textContent = "Submit";
          self.appendChild(button);
        }
      });
    }
    get form() { return this; }
    reset() {
      this.querySelectorAll("crowd-input, crowd-text-area").forEach(function (el) { el.value = ""; });
      this.querySelectorAll("crowd-checkbox, crowd-radio-button").forEach(function (el) { el.checked = false; });
    }
    submit() {
      var event = new Event("submit", { bubbles: true, cancelable: true });
      if (!this.dispatchEvent(event)) return Promise.resolve(null);
      var missing = missingRequired(this);
      if (missing.length) {
        this._notice("Fill in the required fields: " + missing.join(", "), true);
        return Promise.resolve(null);
      }
      var answer = collect(this);
      window.crowdStandIn.lastAnswer = answer;
      this.dispatchEvent(new CustomEvent("crowd-stand-in-answer", { bubbles: true, detail: answer }));
      if (!config.submitUrl) {
        this._notice("", false);
        var pre = this.querySelector("pre.crowd-stand-in-answer") || document.createElement("pre");
        pre.className = "crowd-stand-in-answer";
        pre.textContent = "answerContent that A2I would record:\n" + JSON.stringify(answer, null, 2);
        this.appendChild(pre);
        return Promise.resolve(answer);
      }
      var self = this;
      self._busy(true);
      return fetch(config.submitUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ answerContent: answer }),
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) throw new Error(body.message || body.error || "HTTP " + response.status);
          self._notice(body.message || "Task submitted.", false);
          self.dispatchEvent(new CustomEvent("crowd-stand-in-submitted", { bubbles: true, detail: body }));
          if (config.doneUrl) window.location.assign(config.doneUrl);
          return answer;
        });
      }).catch(function (err) {
        self._busy(false);
        self._notice("The task was not submitted: " + err.message, true);
        return null;
      });
    }
    _busy(on) {
      this.querySelectorAll('crowd-button[form-action="submit"]').forEach(function (b) { b.toggleAttribute("disabled", on); });
    }
    _notice(text, isError) {
      var note = this.querySelector("p.crowd-stand-in-notice");
      if (!note) {
        note = document.createElement("p");
        note.className = "crowd-stand-in-notice";
        note.setAttribute("role", "status");
        this.appendChild(note);
      }
      note.style.color = isError ? "#b42318" : "#067647";
      note.textContent = text;
    }
  }

  window.crowdStandIn = { version: "vmk-1", config: config, collect: collect, lastAnswer: null };
  var elements = {
    "crowd-button": CrowdButton,
    "crowd-checkbox": CrowdCheckbox,
    "crowd-radio-group": CrowdRadioGroup,
    "crowd-radio-button": CrowdRadioButton,
    "crowd-input": textField(false),
    "crowd-text-area": textField(true),
    "crowd-classifier": classifier(false),
    "crowd-classifier-multi-select": classifier(true),
    "crowd-form": CrowdForm
  };
  Object.keys(elements).forEach(function (name) {
    if (!customElements.get(name)) customElements.define(name, elements[name]);
  });
  onReady(function () { document.dispatchEvent(new Event("all-crowd-elements-ready")); });
})();
