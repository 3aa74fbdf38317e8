/* Citizen verification page: hash files locally, send only the digest (plus the receipt) or a
 * sealed record to /v1/verify, and show the outcome in plain words.
 * Plain browser JavaScript, no dependencies, no build step. */
"use strict";

(function () {
  const VERIFY_URL = "/v1/verify";
  const REQUEST_TIMEOUT_MS = 30000;
  // A JSON file larger than this is treated as an opaque file (hashed, never sent).
  const MAX_JSON_BYTES = 16 * 1024 * 1024;
  const DIGEST_RE = /^0x[0-9a-fA-F]{64}$/;

  // ------------------------------------------------------------------ SHA-256

  /* WebCrypto exists only in secure contexts (https:, or http://localhost). An intranet
   * server on plain http still must not receive the file, so hash it here in that case. */
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
  ]);

  function sha256Fallback(input) {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    const len = bytes.length;
    const padded = new Uint8Array((((len + 9 + 63) / 64) | 0) * 64);
    padded.set(bytes);
    padded[len] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(len / 0x20000000));
    view.setUint32(padded.length - 4, (len * 8) % 0x100000000);
    const H = new Uint32Array([
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
      0x5be0cd19,
    ]);
    const W = new Uint32Array(64);
    for (let off = 0; off < padded.length; off += 64) {
      for (let i = 0; i < 16; i++) W[i] = view.getUint32(off + i * 4);
      for (let i = 16; i < 64; i++) {
        const a = W[i - 15];
        const b = W[i - 2];
        const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
        const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      let [a, b, c, d, e, f, g, h] = H;
      for (let i = 0; i < 64; i++) {
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g;
        g = f;
        f = e;
        e = (d + t1) | 0;
        d = c;
        c = b;
        b = a;
        a = (t1 + t2) | 0;
      }
      H[0] += a;
      H[1] += b;
      H[2] += c;
      H[3] += d;
      H[4] += e;
      H[5] += f;
      H[6] += g;
      H[7] += h;
    }
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setUint32(i * 4, H[i]);
    return out;
  }

  function toHex(bytes) {
    let s = "0x";
    for (const b of bytes) s += b.toString(16).padStart(2, "0");
    return s;
  }

  async function sha256Hex(buffer) {
    if (window.crypto && window.crypto.subtle) {
      return toHex(new Uint8Array(await window.crypto.subtle.digest("SHA-256", buffer)));
    }
    return toHex(sha256Fallback(buffer));
  }

  // --------------------------------------------------------------- reading files

  function readBytes(file) {
    if (file.arrayBuffer) return file.arrayBuffer();
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsArrayBuffer(file);
    });
  }

  /* What a chosen file is: {kind: "sealed"|"receipt"|"credential"|"wrapped"|"file", json?,
   * text? (a sealed record's), bytes} ("wrapped": an OpenAttestation v2 document, checked on
   * its DocumentStore).
   * Only our own JSON types count; any other file (a PDF, a plain JSON) is opaque. */
  async function classify(file) {
    const bytes = await readBytes(file);
    if (bytes.byteLength <= MAX_JSON_BYTES) {
      const head = new Uint8Array(bytes, 0, Math.min(bytes.byteLength, 64));
      let i = 0;
      if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3; // UTF-8 BOM
      while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
      if (head[i] === 0x7b) {
        try {
          const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
          const value = JSON.parse(text);
          if (value && typeof value === "object" && !Array.isArray(value)) {
            if (value.type === "SealedRecord") return { kind: "sealed", json: value, text, bytes };
            if (value.type === "RecordReceipt") return { kind: "receipt", json: value, bytes };
            if (Array.isArray(value.type) && value.type.includes("VerifiableCredential")) {
              return { kind: "credential", json: value, bytes };
            }
            if (value.signature && value.signature.type === "SHA3MerkleProof" && "data" in value) {
              return { kind: "wrapped", json: value, bytes };
            }
          }
        } catch (_err) {
          /* not JSON: an opaque file */
        }
      }
    }
    return { kind: "file", bytes };
  }

  // ------------------------------------------------------------------ DOM helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function formatSize(n) {
    if (n < 1024) return `${n} bytes`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  function formatTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    try {
      return (
        date.toLocaleString(undefined, { dateStyle: "long", timeStyle: "short", timeZone: "UTC" }) +
        " UTC"
      );
    } catch (_err) {
      return iso;
    }
  }

  function verifyLink(digest) {
    return `/?digest=${encodeURIComponent(digest)}`;
  }

  // ------------------------------------------------------------ fields and labels

  const LABELS_URL = "/v1/labels/";
  const LABELS_WAIT_MS = 3000;
  const RECORD_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
  const MAX_LABEL_CHARS = 120;
  const labelCache = new Map(); // record type -> Promise of labels or null

  /* The field labels the operator publishes for a record type (GET /v1/labels/{type}), in the
   * browser's language (Accept-Language); null when there are none or they cannot be had.
   * Only the record's type is sent. */
  function labelsFor(type) {
    if (typeof type !== "string" || !RECORD_TYPE_RE.test(type)) return Promise.resolve(null);
    if (!labelCache.has(type)) {
      const init = { headers: { Accept: "application/json" }, credentials: "omit" };
      const work = fetch(LABELS_URL + encodeURIComponent(type), init)
        .then((response) => (response.ok ? response.json() : null))
        .then((body) =>
          body && body.type === type && typeof body.language === "string" &&
          body.fields && typeof body.fields === "object" ? body : null,
        )
        .catch(() => {
          labelCache.delete(type); // a network hiccup: ask again next time
          return null;
        });
      labelCache.set(type, work);
    }
    return labelCache.get(type);
  }

  function withTimeout(promise, ms) {
    return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(null), ms))]);
  }

  // Controls, zero-width and direction characters: a label holding one could read as other
  // text than it is (the server refuses them too; registry/labels.py).
  const UNSAFE_LABEL_RE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/;

  /* A label fit to show, trimmed; null for anything else (the raw key is shown then). */
  function safeLabel(label) {
    if (typeof label !== "string" || UNSAFE_LABEL_RE.test(label)) return null;
    const trimmed = label.trim();
    return trimmed && trimmed.length <= MAX_LABEL_CHARS ? trimmed : null;
  }

  function labelOf(labels, pointer, generic) {
    if (!labels) return null;
    for (const key of [pointer, generic]) {
      if (!Object.prototype.hasOwnProperty.call(labels.fields, key)) continue;
      const label = safeLabel(labels.fields[key]);
      if (label !== null) return label;
    }
    return null;
  }

  /* A field's name for people: at each level the agency's label if it published one (a `*`
   * in a labels pointer stands for any array index), else the raw key. Labels only ever
   * replace words: every field keeps its own row, and its raw JSON pointer is shown beside
   * any label (and on hover), so a label cannot hide a field or pass it off as another. */
  function fieldName(path, labels) {
    const step = window.RegistryRedact.pointerStep;
    const parts = [];
    let pointer = "";
    let generic = "";
    let labelled = false;
    for (const token of path) {
      pointer += step(token);
      generic += typeof token === "number" ? "/*" : step(token);
      const label = labelOf(labels, pointer, generic);
      labelled = labelled || label !== null;
      parts.push(label === null ? String(token) : label);
    }
    return { text: parts.join(" \u203a "), labelled };
  }

  /* The header cell's content for a field: its name, and its raw pointer when labelled.
   * With `inputId`, the name is that checkbox's label ("Hide …"). */
  function fieldHeader(leaf, labels, inputId) {
    const name = fieldName(leaf.path, labels);
    const words = el("span", {
      class: "field-name",
      lang: name.labelled ? labels.language : null,
      text: name.text,
    });
    return [
      inputId
        ? el("label", { for: inputId }, el("span", { class: "visually-hidden", text: "Hide " }), words)
        : words,
      name.labelled ? el("span", { class: "field-key mono", text: leaf.pointer }) : null,
    ];
  }

  function displayValue(value) {
    if (value instanceof Map) return "(empty)";
    if (Array.isArray(value)) return "(empty list)";
    if (value === null) return "(none)";
    return String(value);
  }

  /* The disclosed fields of a sealed record (its JSON text, or the object a credential
   * carries), in order, holes left by redaction skipped: {leaves, hidden, type}; null when
   * it cannot be read (the check then says why). */
  function sealedFields(source) {
    try {
      const R = window.RegistryRedact;
      const doc = R.parse(typeof source === "string" ? source : JSON.stringify(source));
      const data = doc instanceof Map ? doc.get("data") : null;
      if (!(data instanceof Map)) return null;
      const salts = doc.get("salts") instanceof Map ? doc.get("salts") : new Map();
      const redacted = doc.get("redacted");
      return {
        leaves: R.leavesOf(data, salts),
        hidden: Array.isArray(redacted) ? redacted.length : 0,
        type: data.get("type"),
      };
    } catch (_err) {
      return null;
    }
  }

  // ---------------------------------------------------------------- the outcomes

  /* The facts of a verdict beyond its outcome, read from the named checks (api/schemas.py). */
  function checkOf(r, name) {
    return (Array.isArray(r.checks) ? r.checks : []).find((c) => c && c.name === name) || null;
  }

  function revokedByAuthority(r) {
    const c = checkOf(r, "revocation");
    return Boolean(c && c.details && c.details.byAuthority);
  }

  function voidedByCompromise(r) {
    const c = checkOf(r, "agency");
    return Boolean(c && c.status === "fail" && c.details && c.details.void);
  }

  function malformed(r) {
    const c = checkOf(r, "format");
    return c && c.status === "fail" ? c : null;
  }

  const OUTCOMES = {
    VALID: {
      title: "Valid",
      icon: "\u2713",
      tone: "good",
      text: (r) =>
        `This document is authentic and unaltered: it is exactly the one ${agencyWords(r)} ` +
        "issued, and it has not been revoked.",
    },
    IN_FORCE: {
      title: "In force: no document was checked",
      icon: "i",
      tone: "neutral",
      text: (r) =>
        "This record exists and is in force. No document was checked. " +
        `${capitalize(agencyWords(r))} anchored a record with this fingerprint and has not ` +
        "revoked it, but that says nothing about any document in your hands: to check a " +
        "document, choose the document itself (with its receipt, if it came with one).",
    },
    TAMPERED: {
      title: "Tampered: this is not the document that was issued",
      icon: "\u2717",
      tone: "bad",
      text: (r) =>
        malformed(r)
          ? "The receipt or the sealed record is damaged or malformed, so it proves " +
            `nothing. Do not rely on it. (${malformed(r).reason})`
          : "The document does not match what the agency anchored: it has been altered, or " +
            "the receipt belongs to a different document. Do not rely on it.",
    },
    REVOKED: {
      title: "Revoked",
      icon: "\u2717",
      tone: "bad",
      text: (r) =>
        (revokedByAuthority(r)
          ? `${capitalize(agencyWords(r))} issued this document, and the registry authority ` +
            "has since revoked it"
          : `${capitalize(agencyWords(r))} issued this document but has since revoked it`) +
        (r.revocationReason ? `. Reason: ${r.revocationReason}.` : ".") +
        " Do not rely on it.",
    },
    SUPERSEDED: {
      title: "Superseded: no longer in force",
      icon: "!",
      tone: "warn",
      text: (r) =>
        `${capitalize(agencyWords(r))} issued this document and later named another record ` +
        "to replace it. This document is no longer in force. Ask the holder for the " +
        "replacement document and check that one; the record named below can be looked up, " +
        "but looking it up checks no document.",
    },
    UNKNOWN: {
      title: "Unknown to the registry",
      icon: "?",
      tone: "neutral",
      text: () =>
        "The registry has no record of this document: it was not issued through this " +
        "registry, or it has not been anchored yet. This does not prove it is false, but it " +
        "cannot be confirmed here.",
    },
    UNTRUSTED: {
      title: "Not trusted",
      icon: "\u2717",
      tone: "bad",
      text: (r) =>
        voidedByCompromise(r)
          ? "This was anchored while the agency's account was compromised: the registry " +
            "authority has marked that period, and everything the account did in it is void. " +
            "Do not rely on it."
          : "The receipt points to a registry, an agency or a signing key that this service " +
            "does not trust (for example a copy on a test network, or a look-alike registry). " +
            "Do not rely on it.",
    },
    ERROR: {
      title: "Could not check",
      icon: "\u2026",
      tone: "neutral",
      text: () =>
        "The registry could not be reached; this says nothing against the document. " +
        "Please try again later.",
    },
  };

  function countryName(code) {
    try {
      return new Intl.DisplayNames(["en"], { type: "region" }).of(code) || code;
    } catch (e) {
      return code;
    }
  }

  function agencyWords(r) {
    return r.agencyName ? r.agencyName : "the agency";
  }

  function capitalize(s) {
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  const CHECK_NAMES = {
    format: "Receipt format",
    credential: "Credential matches its sealed record",
    identity: "Issuer identity (DNS)",
    integrity: "Document matches its receipt",
    inclusion: "Included in the anchored batch",
    signature: "Agency signature",
    trust: "Trusted registry",
    anchored: "Anchored on the blockchain",
    agency: "Issuing agency",
    key: "Signing key valid at the time",
    revocation: "Revocation",
  };

  const CHECK_STATUS = {
    pass: ["passed", "\u2713"],
    fail: ["failed", "\u2717"],
    skip: ["not run", "\u2013"],
    error: ["could not be run", "\u2026"],
  };

  // ------------------------------------------------------------------- the page

  function init() {
    const form = document.getElementById("verify-form");
    if (!form) return;
    const docInput = document.getElementById("document");
    const receiptInput = document.getElementById("receipt");
    const digestInput = document.getElementById("digest");
    const digestDetails = document.getElementById("digest-details");
    const checkButton = document.getElementById("check");
    const formError = document.getElementById("form-error");
    const statusLine = document.getElementById("status");
    const result = document.getElementById("result");
    const classified = new Map(); // input id -> Promise of classify()

    function setInputFile(input, file) {
      const dt = new DataTransfer();
      dt.items.add(file);
      input.files = dt.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    // --------------------------------------------------------- hiding fields

    /* The redaction tool: shown when a sealed record is chosen, it lists the record's
     * disclosed fields with a box to tick for each, and makes the copy with the ticked
     * fields hidden in this browser (redact.js; the same bytes as `registry redact`).
     * Nothing is sent: the download is made from memory. */
    const redactBox = document.getElementById("redact");
    const redactForm = document.getElementById("redact-form");
    const redactRows = document.querySelector("#redact-fields tbody");
    const redactAlready = document.getElementById("redact-already");
    const redactError = document.getElementById("redact-error");
    const redactDone = document.getElementById("redact-done");
    const redactCheck = document.getElementById("redact-check");
    let redactSource = null; // {name, text} of the chosen sealed record
    let redactedCopy = null; // the File last downloaded

    function closeRedaction() {
      redactBox.hidden = true;
      redactBox.open = false;
      redactRows.replaceChildren();
      redactAlready.textContent = "";
      redactError.textContent = "";
      redactDone.textContent = "";
      redactCheck.hidden = true;
      redactSource = null;
      redactedCopy = null;
    }

    async function offerRedaction(file, c) {
      closeRedaction();
      let sealed;
      try {
        sealed = window.RegistryRedact.read(c.text);
      } catch (_err) {
        return; // a malformed record: the check says what is wrong with it
      }
      if (sealed.leaves.length === 0) return; // everything is hidden already
      const labels = await withTimeout(labelsFor(sealed.doc.get("data").get("type")), LABELS_WAIT_MS);
      if (docInput.files[0] !== file) return;
      redactSource = { name: file.name, text: c.text };
      redactRows.replaceChildren(
        ...sealed.leaves.map((leaf, n) =>
          el(
            "tr",
            {},
            el("td", { class: "tick" }, el("input", { type: "checkbox", id: `hide-${n}`, "data-pointer": leaf.pointer })),
            el("th", { scope: "row", title: leaf.pointer }, fieldHeader(leaf, labels, `hide-${n}`)),
            el("td", { text: displayValue(leaf.value) }),
          ),
        ),
      );
      const already = sealed.redacted.length;
      redactAlready.textContent = already
        ? `${already} field${already === 1 ? " is" : "s are"} hidden already.`
        : "";
      redactBox.hidden = false;
    }

    function redactedName(name) {
      return `${name.replace(/(\.redacted)?(\.sealed)?\.json$/i, "") || "record"}.redacted.sealed.json`;
    }

    function download(file) {
      const url = URL.createObjectURL(file);
      const link = el("a", { href: url, download: file.name, class: "visually-hidden", text: file.name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    }

    redactForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      redactError.textContent = "";
      redactDone.textContent = "";
      redactCheck.hidden = true;
      const boxes = Array.from(redactRows.querySelectorAll("input[type=checkbox]"));
      const pointers = boxes.filter((box) => box.checked).map((box) => box.dataset.pointer);
      if (!redactSource) return;
      if (pointers.length === 0) {
        redactError.textContent = "Tick at least one field to hide.";
        if (boxes.length) boxes[0].focus();
        return;
      }
      try {
        const copy = await window.RegistryRedact.redactText(redactSource.text, pointers);
        redactedCopy = new File([copy.text], redactedName(redactSource.name), { type: "application/json" });
        download(redactedCopy);
        redactDone.textContent =
          `Downloaded ${redactedCopy.name}, with ${copy.hidden} field${copy.hidden === 1 ? "" : "s"} ` +
          "hidden. Share that copy: it checks exactly as the original does, and the hidden " +
          "values cannot be read from it.";
        redactCheck.hidden = false;
      } catch (err) {
        redactError.textContent = `The fields could not be hidden: ${err && err.message ? err.message : err}.`;
      }
    });

    redactCheck.addEventListener("click", () => {
      if (!redactedCopy) return;
      setInputFile(docInput, redactedCopy);
      runCheck();
    });

    // ------------------------------------------------------------- choosing files

    function describeChoice(input) {
      const chosen = document.getElementById(`${input.id}-chosen`);
      const file = input.files && input.files[0];
      chosen.textContent = "";
      classified.delete(input.id);
      if (input === docInput) closeRedaction();
      if (!file) return;
      const work = classify(file);
      classified.set(input.id, work);
      work.then(
        (c) => {
          if (input.files[0] !== file) return;
          if (input === docInput && c.kind === "sealed") offerRedaction(file, c);
          let what;
          if (input === receiptInput) {
            what =
              c.kind === "receipt"
                ? "a receipt"
                : "not a receipt: choose the .receipt.json file that came with the document";
          } else if (c.kind === "sealed") {
            what =
              "a sealed record: it will be sent to the registry as it is when you press " +
              "Check. To show less of it, hide fields first (below)";
          } else if (c.kind === "credential") {
            what = "a verifiable credential: it will be sent to the registry as it is";
          } else if (c.kind === "wrapped") {
            what = "an OpenAttestation document: it will be sent to the registry as it is";
          } else if (c.kind === "receipt") {
            // A receipt chosen as the document: move it where it belongs.
            if (!receiptInput.files || receiptInput.files.length === 0) {
              setInputFile(receiptInput, file);
              input.value = "";
              describeChoice(input);
              document.getElementById("document-chosen").textContent =
                `${file.name} is a receipt, so it was put in the receipt field. ` +
                "Now choose the document it belongs to.";
              return;
            }
            what = "a receipt, not a document: choose the document itself";
          } else {
            what = "a file: only its fingerprint will leave this computer";
          }
          chosen.textContent = `Chosen: ${file.name} (${formatSize(file.size)}), ${what}.`;
        },
        () => {
          chosen.textContent = `${file.name} could not be read.`;
        },
      );
    }

    for (const input of [docInput, receiptInput]) {
      input.addEventListener("change", () => {
        formError.textContent = "";
        describeChoice(input);
      });
    }

    // Drag and drop: the input covers its zone, but the zone routes what is dropped, so
    // that a document and its receipt dropped together each land in their own field.
    for (const zone of document.querySelectorAll(".drop")) {
      const input = document.getElementById(zone.dataset.for);
      const over = (event) => {
        event.preventDefault();
        zone.classList.add("dragging");
      };
      zone.addEventListener("dragenter", over);
      zone.addEventListener("dragover", over);
      zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
      zone.addEventListener("drop", async (event) => {
        event.preventDefault();
        zone.classList.remove("dragging");
        const files = Array.from((event.dataTransfer && event.dataTransfer.files) || []);
        if (files.length === 0) return;
        if (files.length === 1) {
          setInputFile(input, files[0]);
          return;
        }
        const kinds = await Promise.all(files.map((f) => classify(f)));
        const receiptAt = kinds.findIndex((c) => c.kind === "receipt");
        const docAt = kinds.findIndex((c) => c.kind !== "receipt");
        if (receiptAt >= 0) setInputFile(receiptInput, files[receiptAt]);
        if (docAt >= 0) setInputFile(docInput, files[docAt]);
        if (files.length > 2 || docAt < 0) {
          formError.textContent =
            "Drop one document, and optionally its receipt, at a time.";
        }
      });
    }

    form.addEventListener("reset", () => {
      for (const input of [docInput, receiptInput]) {
        classified.delete(input.id);
        document.getElementById(`${input.id}-chosen`).textContent = "";
      }
      formError.textContent = "";
      statusLine.textContent = "";
      result.replaceChildren();
      closeRedaction();
      if (window.location.search) window.history.replaceState(null, "", "/");
    });

    function fail(message, focusTarget) {
      formError.textContent = message;
      statusLine.textContent = "";
      if (focusTarget) focusTarget.focus();
    }

    /* What to ask the API (api/routes/verify.py). Never includes a file's bytes:
     *   a file, no receipt:     GET  /v1/verify/{digest}?digestKind=file  (the store has the receipt)
     *   a file + its receipt:   POST /v1/verify?digest=0x..      body: the receipt
     *   a sealed record:        POST /v1/verify                  body: the sealed record
     *   a typed digest / link:  GET  /v1/verify/{digest}         (no document: IN_FORCE at best)
     *   a receipt alone:        POST /v1/verify                  body: the receipt (IN_FORCE at best)
     * Only a digest this page computed from a file is sent as a file's digest. */
    function firstSealed(credential) {
      // The sealed record a credential carries: its fields are shown like a sealed record's.
      const evidence = Array.isArray(credential.evidence) ? credential.evidence[0] : null;
      return evidence && typeof evidence.document === "object" ? evidence.document : null;
    }

    function requestFor({ digest, receipt, sealed, fromFile }) {
      if (sealed) return { method: "POST", url: VERIFY_URL, body: sealed };
      if (receipt && fromFile) {
        return { method: "POST", url: `${VERIFY_URL}?digest=${encodeURIComponent(digest)}`, body: receipt };
      }
      if (receipt) return { method: "POST", url: VERIFY_URL, body: receipt };
      const kind = fromFile ? "?digestKind=file" : "";
      return { method: "GET", url: `${VERIFY_URL}/${encodeURIComponent(digest)}${kind}`, body: null };
    }

    async function buildRequest() {
      let receipt = null;
      const shown = {};
      const receiptFile = receiptInput.files && receiptInput.files[0];
      if (receiptFile) {
        const c = await (classified.get("receipt") || classify(receiptFile));
        if (c.kind !== "receipt") {
          return fail(
            `${receiptFile.name} is not a receipt. Choose the .receipt.json file that came ` +
              "with the document, or leave the receipt field empty.",
            receiptInput,
          );
        }
        receipt = c.json;
      }
      const docFile = docInput.files && docInput.files[0];
      if (docFile) {
        const c = await (classified.get("document") || classify(docFile));
        if (c.kind === "credential" || c.kind === "wrapped") {
          if (receipt) {
            return fail(
              `${docFile.name} carries its own proof: leave the receipt field empty.`,
              receiptInput,
            );
          }
          if (c.kind === "credential") {
            shown.sealed = firstSealed(c.json);
            shown.fields = shown.sealed ? sealedFields(shown.sealed) : null;
          }
          return { method: "POST", url: VERIFY_URL, body: c.json, shown };
        }
        if (c.kind === "sealed") {
          if (!c.json.receipt && !receipt) {
            return fail(
              "This sealed record has no receipt yet. Choose its receipt file as well, or " +
                "ask the agency for a sealed record that includes it.",
              receiptInput,
            );
          }
          // A receipt chosen beside the record takes the place of the one inside (the
          // record's digest comes from its fields, never from the receipt).
          const sealed = receipt ? { ...c.json, receipt } : c.json;
          shown.sealed = sealed;
          shown.fields = sealedFields(c.text);
          shown.digest = typeof sealed.digest === "string" ? sealed.digest : null;
          return { ...requestFor({ sealed }), shown };
        }
        if (c.kind === "receipt") {
          return fail(
            `${docFile.name} is a receipt, not a document. Choose the document it belongs to.`,
            docInput,
          );
        }
        statusLine.textContent =
          `Computing the fingerprint of ${docFile.name} in your browser\u2026`;
        const digest = await sha256Hex(c.bytes);
        shown.digest = digest;
        shown.fileName = docFile.name;
        return { ...requestFor({ digest, receipt, fromFile: true }), shown };
      }
      const typed = digestInput.value.trim();
      if (typed) {
        if (!DIGEST_RE.test(typed)) {
          digestDetails.open = true;
          return fail(
            "A digest is 0x followed by 64 hexadecimal digits (0-9, a-f).",
            digestInput,
          );
        }
        const digest = typed.toLowerCase();
        shown.digest = digest;
        if (receipt) {
          // A typed digest is no document: the receipt is checked alone, if it is the same.
          if (String(receipt.digest).toLowerCase() !== digest) {
            digestDetails.open = true;
            return fail("The digest you typed is not the one in the receipt.", digestInput);
          }
          return { ...requestFor({ receipt }), shown };
        }
        return { ...requestFor({ digest }), shown };
      }
      if (receipt) {
        // A receipt alone: the registry says whether its record is in force; no document is
        // checked, and the page says so.
        if (typeof receipt.digest === "string") shown.digest = receipt.digest;
        return { ...requestFor({ receipt }), shown };
      }
      return fail("Choose a document to check first.", docInput);
    }

    async function send(request) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
      const init = {
        method: request.method,
        headers: { Accept: "application/json" },
        signal: controller.signal,
        credentials: "omit",
      };
      if (request.body !== null) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(request.body);
      }
      try {
        const response = await fetch(request.url, init);
        let payload = null;
        try {
          payload = await response.json();
        } catch (_err) {
          payload = null;
        }
        return { status: response.status, payload };
      } catch (_err) {
        return { status: 0, payload: null };
      } finally {
        clearTimeout(timer);
      }
    }

    async function runCheck() {
      formError.textContent = "";
      result.replaceChildren();
      checkButton.disabled = true;
      result.setAttribute("aria-busy", "true");
      try {
        statusLine.textContent = "Preparing\u2026";
        const request = await buildRequest();
        if (!request) return;
        statusLine.textContent = "Asking the registry\u2026";
        const fields = request.shown.fields;
        const labels = fields ? labelsFor(fields.type) : Promise.resolve(null);
        const { status, payload } = await send(request);
        request.shown.labels = await withTimeout(labels, LABELS_WAIT_MS);
        statusLine.textContent = "";
        if (status === 200 && payload && OUTCOMES[payload.outcome]) {
          showResult(payload, request.shown);
        } else {
          showProblem(status, payload, request.shown);
        }
      } catch (err) {
        fail(`Something went wrong in this page: ${err && err.message ? err.message : err}`);
      } finally {
        checkButton.disabled = false;
        result.removeAttribute("aria-busy");
      }
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      runCheck();
    });

    // ------------------------------------------------------------- rendering

    function heading(tone, icon, title) {
      return el(
        "h2",
        { id: "result-title", tabindex: "-1" },
        el("span", { class: "icon", "aria-hidden": "true", text: icon }),
        el("span", { class: "outcome-word", text: title }),
      );
    }

    function factRows(r, shown) {
      const rows = [];
      const add = (term, ...value) => rows.push(el("dt", { text: term }), el("dd", {}, ...value));
      // Only a document that checked out was issued by the agency; otherwise these facts
      // are the receipt's, not the document's.
      const issued = ["VALID", "REVOKED", "SUPERSEDED"].includes(r.outcome);
      const record = r.outcome === "IN_FORCE";
      if (r.country) {
        // Named by a trust list this server holds: the country whose registry anchored it.
        add(
          issued || record ? "Issuing country" : "Receipt's country",
          `${countryName(r.country)} (${r.country})`,
          r.registryName ? el("span", { class: "small", text: ` \u2014 ${r.registryName}` }) : null,
        );
      }
      if (r.agencyName || r.agency) {
        add(
          issued ? "Issued by" : record ? "Record issued by" : "Receipt from",
          r.agencyName || r.agency,
          r.agencyName && r.agency ? el("span", { class: "mono small", text: ` ${r.agency}` }) : null,
        );
      }
      if (r.anchoredAt) {
        add(
          issued || record ? "Anchored" : "Receipt anchored",
          el("time", { datetime: r.anchoredAt, text: formatTime(r.anchoredAt) }),
          r.blockNumber !== null && r.blockNumber !== undefined ? `, block ${r.blockNumber}` : null,
        );
      }
      if (r.revocationReason && r.outcome !== "SUPERSEDED") add("Revocation reason", r.revocationReason);
      if (r.outcome === "REVOKED" && revokedByAuthority(r)) add("Revoked by", "the registry authority");
      if (r.replacement) {
        // A digest the agency named, not a document: something to look up, nothing more.
        add("Replacement record to look up", el("span", { class: "mono", text: r.replacement }));
      }
      if (shown.fileName) add("File", shown.fileName);
      if (shown.digest) add("Fingerprint (SHA-256)", el("span", { class: "mono", text: shown.digest }));
      return rows;
    }

    function disclosedSection(fields, labels, outcome) {
      if (!fields) return null;
      const rows = fields.leaves.map((leaf) =>
        el(
          "tr",
          {},
          el("th", { scope: "row", title: leaf.pointer }, fieldHeader(leaf, labels)),
          el("td", { text: displayValue(leaf.value) }),
        ),
      );
      const hidden = fields.hidden;
      let note = "Do not rely on these contents: the check did not confirm them.";
      if (outcome === "VALID") note = "These are the contents the agency issued.";
      else if (outcome === "REVOKED" || outcome === "SUPERSEDED") {
        note = "These are the contents the agency issued, but they are no longer in force.";
      }
      const title = labels ? safeLabel(labels.title) : null;
      return el(
        "section",
        { class: "disclosed", "aria-labelledby": "disclosed-title" },
        el("h3", { id: "disclosed-title", text: "Contents of the sealed record" }),
        title && typeof fields.type === "string"
          ? el(
              "p",
              { class: "record-type" },
              "Record type: ",
              el("span", { lang: labels.language, text: title }),
              " ",
              el("span", { class: "field-key mono", text: `(${fields.type})` }),
            )
          : null,
        el("p", { text: note }),
        el(
          "div",
          { class: "table-wrap" },
          el(
            "table",
            { class: "fields" },
            el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Field" }), el("th", { scope: "col", text: "Value" }))),
            el("tbody", {}, rows),
          ),
        ),
        labels
          ? el("p", {
              class: "hint",
              text:
                "Field names are the agency's labels for this type of record; the name under " +
                "each is the field's key in the record itself.",
            })
          : null,
        hidden
          ? el("p", {
              class: "hint",
              text:
                `${hidden} field${hidden === 1 ? " was" : "s were"} hidden by the holder ` +
                "(redacted). Hiding fields does not change the record's fingerprint.",
            })
          : null,
      );
    }

    function checksSection(checks) {
      if (!Array.isArray(checks) || checks.length === 0) return null;
      const items = checks.map((c) => {
        const [word, mark] = CHECK_STATUS[c.status] || [c.status, "?"];
        return el(
          "li",
          { class: `check check-${c.status}` },
          el("span", { class: "mark", "aria-hidden": "true", text: mark }),
          el(
            "span",
            { class: "check-body" },
            el("strong", { text: `${CHECK_NAMES[c.name] || c.name}: ${word}` }),
            c.reason ? el("span", { class: "reason", text: c.reason }) : null,
          ),
        );
      });
      return el(
        "details",
        { class: "checks", id: "checks" },
        el("summary", { text: `Show the ${checks.length} checks` }),
        el("ul", {}, items),
      );
    }

    function show(card) {
      result.replaceChildren(card);
      const title = document.getElementById("result-title");
      if (title) {
        // Bring the whole card into view (on a phone the form fills the screen), then focus.
        card.scrollIntoView({ block: "start" });
        title.focus({ preventScroll: true });
      }
    }

    function showResult(r, shown) {
      const info = OUTCOMES[r.outcome];
      const card = el(
        "div",
        { class: `card tone-${info.tone}`, "data-outcome": r.outcome },
        heading(info.tone, info.icon, info.title),
        el("p", { class: "explain", text: info.text(r) }),
        r.outcome === "SUPERSEDED" && r.replacement
          ? el(
              "p",
              {},
              el(
                "a",
                { href: verifyLink(r.replacement), class: "button-link", id: "replacement-link" },
                "Look up the replacement record",
              ),
            )
          : null,
        el("dl", { class: "facts" }, factRows(r, shown)),
        disclosedSection(shown.fields, shown.labels, r.outcome),
        checksSection(r.checks),
      );
      show(card);
    }

    function showProblem(status, problem, shown) {
      const detail = problem && (problem.detail || problem.title);
      let title;
      let text;
      let tone = "neutral";
      if (status === 0 || status >= 500) {
        title = OUTCOMES.ERROR.title;
        text = OUTCOMES.ERROR.text({});
      } else if (status === 404 && shown.digest && !shown.sealed) {
        title = OUTCOMES.UNKNOWN.title;
        text =
          "This registry has no record with this fingerprint. If you have the receipt that " +
          "came with the document, choose it as well and check again.";
      } else if (status === 429) {
        title = "Too many checks";
        text =
          "This service received too many checks from your network just now. Wait a minute " +
          "and try again; this says nothing about the document.";
      } else if (status === 413) {
        title = "Too large to check";
        text = "What was sent is larger than this registry accepts.";
        tone = "warn";
      } else {
        title = "The registry could not read what was sent";
        text =
          "The receipt or the sealed record is damaged or not in a format this registry " +
          "understands, so nothing could be checked.";
        tone = "warn";
      }
      const card = el(
        "div",
        { class: `card tone-${tone}`, "data-outcome": "PROBLEM", "data-status": String(status) },
        heading(tone, tone === "warn" ? "!" : "\u2026", title),
        el("p", { class: "explain", text }),
        detail && status !== 0 ? el("p", { class: "detail" }, "Details: ", el("span", { text: detail })) : null,
        el("dl", { class: "facts" }, factRows({}, shown)),
      );
      show(card);
    }

    // A link such as /?digest=0x.. (e.g. "check the replacement") checks that digest at once.
    const params = new URLSearchParams(window.location.search);
    const linked = params.get("digest");
    if (linked) {
      digestInput.value = linked;
      digestDetails.open = true;
      runCheck();
    }
  }

  window.RegistryVerify = { sha256Fallback, sha256Hex, toHex, classify, fieldName };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
