/* Sealed records in the browser: read one, list its fields, hide some of them, and write the
 * result exactly as `registry redact` (registry.record.redact) and `registry issue` write it.
 *
 * The format is docs/receipt.md section 4: a field's hash is
 * SHA-256(JCS([path, salt_hex, value])), JCS being RFC 8785; hiding a field moves that hash to
 * `redacted` (sorted) and drops its salt, so the record digest, the SHA-256 of all field
 * hashes sorted, does not change. Nothing here touches the page or the network.
 * Plain browser JavaScript, no dependencies, no build step. */
"use strict";

(function () {
  const MAX_DEPTH = 33; // registry.jsontext.MAX_DOCUMENT_DEPTH
  const MAX_SAFE = 9007199254740991; // 2**53 - 1: the number rule (docs/receipt.md 2.2.2)
  const HEX32_RE = /^0x[0-9a-f]{64}$/;
  const SALT_RE = /^0x(?:[0-9a-f]{2}){16,64}$/;
  const DOCUMENT_KEYS = ["type", "version", "data", "salts", "redacted", "digest", "receipt"];
  // A receipt's members in the order registry.receipt.receipt_to_json writes them.
  const RECEIPT_ORDER = {
    "": ["type", "version", "digest", "digestKind", "leaf", "merkle", "anchor", "signature"],
    merkle: ["root", "proof", "count"],
    anchor: ["chainId", "registry", "agency", "blockNumber", "anchoredAt"],
    signature: ["alg", "publicKey", "value"],
  };

  class SealedError extends Error {}

  // --------------------------------------------------------------- reading JSON text

  /* JSON.parse would reorder keys that look like array indexes ("0", "12") and keep the last
   * of two equal keys; the registry keeps the order and refuses repeats. So objects are read
   * into Maps, in order, by the rules of docs/receipt.md 2.2.1. */
  const STRING_RE = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
  const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/;

  function parse(text) {
    let i = 0;
    const where = () => `at character ${i}`;
    const space = () => {
      while (i < text.length) {
        const c = text.charCodeAt(i);
        if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
        i++;
      }
    };
    const string = () => {
      STRING_RE.lastIndex = i;
      const m = STRING_RE.exec(text);
      if (!m) throw new SealedError(`malformed string ${where()}`);
      i = STRING_RE.lastIndex;
      const s = JSON.parse(m[0]);
      if (LONE_SURROGATE_RE.test(s)) throw new SealedError(`a string holds a lone surrogate ${where()}`);
      return s;
    };
    const number = () => {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(text);
      if (!m) throw new SealedError(`unexpected character ${where()}`);
      i = NUMBER_RE.lastIndex;
      const n = Number(m[0]);
      const mantissa = m[0].split(/[eE]/)[0];
      if (!Number.isFinite(n) || Math.abs(n) > MAX_SAFE) {
        throw new SealedError(`the number ${m[0]} is beyond 2**53 - 1 ${where()}`);
      }
      if (n === 0 && /[1-9]/.test(mantissa)) {
        throw new SealedError(`the number ${m[0]} rounds to zero ${where()}`);
      }
      return n === 0 ? 0 : n; // -0 is zero
    };
    const value = (depth) => {
      space();
      const c = text[i];
      if (c === "{" || c === "[") {
        if (depth > MAX_DEPTH) throw new SealedError(`nested deeper than ${MAX_DEPTH} levels ${where()}`);
        i++;
        const isObject = c === "{";
        const out = isObject ? new Map() : [];
        space();
        if (text[i] === (isObject ? "}" : "]")) {
          i++;
          return out;
        }
        for (;;) {
          if (isObject) {
            space();
            if (text[i] !== '"') throw new SealedError(`expected a key ${where()}`);
            const key = string();
            if (out.has(key)) throw new SealedError(`duplicate key ${JSON.stringify(key)} ${where()}`);
            space();
            if (text[i] !== ":") throw new SealedError(`expected ':' ${where()}`);
            i++;
            out.set(key, value(depth + 1));
          } else {
            out.push(value(depth + 1));
          }
          space();
          if (text[i] === ",") {
            i++;
            continue;
          }
          if (text[i] === (isObject ? "}" : "]")) {
            i++;
            return out;
          }
          throw new SealedError(`expected ',' or '${isObject ? "}" : "]"}' ${where()}`);
        }
      }
      if (c === '"') return string();
      for (const [word, literal] of [["true", true], ["false", false], ["null", null]]) {
        if (text.startsWith(word, i)) {
          i += word.length;
          return literal;
        }
      }
      return number();
    };
    const result = value(1);
    space();
    if (i !== text.length) throw new SealedError(`unexpected text after the JSON ${where()}`);
    return result;
  }

  // ------------------------------------------------------------ writing JSON text

  const ESCAPES = { '"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

  /* Python's json.dumps(..., indent=2) with ensure_ascii: what `registry issue` and
   * `registry redact` write. Every character outside printable ASCII is \u-escaped
   * (lower-case hex, one escape per UTF-16 unit). */
  function pyString(s) {
    return `"${s.replace(/[^\x20-\x7e]|["\\]/g, (ch) => ESCAPES[ch] || `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
  }

  /* Python's repr of a float; an integral number is an int in the registry (1.0 is 1). */
  function pyNumber(n) {
    if (Number.isInteger(n)) return String(n === 0 ? 0 : n);
    const [mantissa, exp] = n.toExponential().split("e"); // the shortest round-trip digits
    const e = Number(exp);
    const negative = mantissa.startsWith("-");
    const digits = mantissa.replace("-", "").replace(".", "");
    let body;
    if (e < -4 || e >= 16) {
      const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
      body = `${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
    } else if (e < 0) {
      body = `0.${"0".repeat(-e - 1)}${digits}`;
    } else {
      body = `${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`;
    }
    return negative ? `-${body}` : body;
  }

  function dumps(value, level = 0) {
    if (value === null) return "null";
    if (value === true) return "true";
    if (value === false) return "false";
    if (typeof value === "number") return pyNumber(value);
    if (typeof value === "string") return pyString(value);
    const inner = "  ".repeat(level + 1);
    const outer = "  ".repeat(level);
    if (Array.isArray(value)) {
      if (value.length === 0) return "[]";
      return `[\n${value.map((v) => inner + dumps(v, level + 1)).join(",\n")}\n${outer}]`;
    }
    if (value.size === 0) return "{}";
    const members = [];
    for (const [k, v] of value) members.push(`${inner}${pyString(k)}: ${dumps(v, level + 1)}`);
    return `{\n${members.join(",\n")}\n${outer}}`;
  }

  /* RFC 8785 of a leaf (a scalar, {} or []) or of a path; ECMAScript's own number and
   * string forms are JCS's. */
  function jcs(value) {
    if (value instanceof Map) return "{}";
    if (Array.isArray(value)) return `[${value.map(jcs).join(",")}]`;
    return JSON.stringify(value);
  }

  // ---------------------------------------------------------------- the document

  function pointerStep(token) {
    return `/${String(token).replace(/~/g, "~0").replace(/\//g, "~1")}`;
  }

  /* The disclosed leaves, in document order: {pointer, path, value}. An unsalted null in an
   * array is a hole left by redaction, not a field. */
  function leavesOf(data, salts) {
    const out = [];
    const walk = (value, path, pointer) => {
      if (value instanceof Map && value.size) {
        for (const [key, item] of value) walk(item, [...path, key], pointer + pointerStep(key));
      } else if (Array.isArray(value) && value.length) {
        value.forEach((item, index) => {
          const child = pointer + pointerStep(index);
          if (item === null && !salts.has(child)) return;
          walk(item, [...path, index], child);
        });
      } else {
        out.push({ pointer, path, value });
      }
    };
    if (data.size) walk(data, [], "");
    return out;
  }

  function checkHoles(value, pointer, salts) {
    if (value instanceof Map) {
      for (const [key, item] of value) checkHoles(item, pointer + pointerStep(key), salts);
    } else if (Array.isArray(value)) {
      const last = value.length - 1;
      if (last >= 0 && value[last] === null && !salts.has(pointer + pointerStep(last))) {
        throw new SealedError(`data${pointer}: ends with a redaction hole`);
      }
      value.forEach((item, index) => checkHoles(item, pointer + pointerStep(index), salts));
    }
  }

  /* A sealed record from its JSON text, its structure checked as the registry checks it
   * (registry.record.parse_sealed_document): {doc (the Map), leaves, redacted, digest}. */
  function read(text) {
    const doc = parse(text);
    if (!(doc instanceof Map)) throw new SealedError("a sealed record is a JSON object");
    for (const key of DOCUMENT_KEYS) if (!doc.has(key)) throw new SealedError(`${key}: missing`);
    for (const key of doc.keys()) if (!DOCUMENT_KEYS.includes(key)) throw new SealedError(`${key}: unknown field`);
    if (doc.get("type") !== "SealedRecord") throw new SealedError("type: not a sealed record");
    if (doc.get("version") !== 1) throw new SealedError("version: this page knows version 1");
    const data = doc.get("data");
    const salts = doc.get("salts");
    const redacted = doc.get("redacted");
    if (!(data instanceof Map)) throw new SealedError("data: expected a JSON object");
    if (!(salts instanceof Map)) throw new SealedError("salts: expected a JSON object");
    for (const [pointer, salt] of salts) {
      if (typeof salt !== "string" || !SALT_RE.test(salt)) throw new SealedError(`salts[${pointer}]: malformed salt`);
    }
    if (!Array.isArray(redacted)) throw new SealedError("redacted: expected an array");
    redacted.forEach((h, index) => {
      if (typeof h !== "string" || !HEX32_RE.test(h)) throw new SealedError(`redacted[${index}]: malformed field hash`);
      if (index && redacted[index - 1] >= h) throw new SealedError(`redacted[${index}]: not sorted`);
    });
    const digest = doc.get("digest");
    if (typeof digest !== "string" || !HEX32_RE.test(digest)) throw new SealedError("digest: malformed");
    const receipt = doc.get("receipt");
    if (receipt !== null && !(receipt instanceof Map)) throw new SealedError("receipt: expected an object or null");
    if (receipt && receipt.get("digest") !== digest) throw new SealedError("receipt.digest: not the document's digest");
    const leaves = leavesOf(data, salts);
    checkHoles(data, "", salts);
    const pointers = new Set();
    for (const leaf of leaves) {
      if (!salts.has(leaf.pointer)) throw new SealedError(`data${leaf.pointer}: field has no salt`);
      pointers.add(leaf.pointer);
    }
    for (const pointer of salts.keys()) {
      if (!pointers.has(pointer)) throw new SealedError(`salts[${pointer}]: no such field in data`);
    }
    if (!leaves.length && !redacted.length) throw new SealedError("data: the record has no fields");
    return { doc, leaves, redacted, digest };
  }

  // ------------------------------------------------------------------ hashing

  async function sha256(bytes) {
    if (window.crypto && window.crypto.subtle) {
      return new Uint8Array(await window.crypto.subtle.digest("SHA-256", bytes));
    }
    return window.RegistryVerify.sha256Fallback(bytes); // plain-http intranets (app.js)
  }

  function hex(bytes) {
    let s = "0x";
    for (const b of bytes) s += b.toString(16).padStart(2, "0");
    return s;
  }

  async function fieldHash(leaf, salt) {
    const canonical = `[${jcs(leaf.path)},${JSON.stringify(salt)},${jcs(leaf.value)}]`;
    return hex(await sha256(new TextEncoder().encode(canonical)));
  }

  /* The record digest recomputed from data, salts and redacted (as verification does). */
  async function recomputeDigest(sealed) {
    const salts = sealed.doc.get("salts");
    const hashes = [...sealed.redacted];
    for (const leaf of sealed.leaves) hashes.push(await fieldHash(leaf, salts.get(leaf.pointer)));
    hashes.sort();
    const joined = new Uint8Array(32 * hashes.length);
    hashes.forEach((h, n) => {
      for (let k = 0; k < 32; k++) joined[32 * n + k] = parseInt(h.slice(2 + 2 * k, 4 + 2 * k), 16);
    });
    return hex(await sha256(joined));
  }

  // ------------------------------------------------------------------ hiding

  function checkPointer(pointer) {
    if (typeof pointer !== "string" || (pointer !== "" && !pointer.startsWith("/"))) {
      throw new SealedError(`${JSON.stringify(pointer)}: a JSON pointer starts with '/'`);
    }
    if (/~(?![01])/.test(pointer)) throw new SealedError(`${JSON.stringify(pointer)}: '~' must be written '~0'`);
  }

  /* The smallest tree holding the kept leaves at their paths; missing array items are null
   * (registry.record._build_tree). */
  function buildTree(leaves) {
    const root = new Map();
    const get = (node, token) => (node instanceof Map ? node.get(token) : node[token]);
    const put = (node, token, value) => {
      if (node instanceof Map) node.set(token, value);
      else {
        while (node.length < token) node.push(null);
        node[token] = value;
      }
    };
    for (const leaf of leaves) {
      let node = root;
      for (let k = 0; k < leaf.path.length - 1; k++) {
        let child = get(node, leaf.path[k]);
        if (child === undefined || child === null) {
          child = typeof leaf.path[k + 1] === "number" ? [] : new Map();
          put(node, leaf.path[k], child);
        }
        node = child;
      }
      put(node, leaf.path[leaf.path.length - 1], leaf.value);
    }
    return root;
  }

  /* The receipt with its members in the format's order (any others after them, as found). */
  function orderedReceipt(receipt, order = RECEIPT_ORDER[""]) {
    if (!(receipt instanceof Map)) return receipt;
    const keys = [...order.filter((k) => receipt.has(k)), ...[...receipt.keys()].filter((k) => !order.includes(k))];
    return new Map(
      keys.map((k) => {
        const value = receipt.get(k);
        return [k, order === RECEIPT_ORDER[""] && RECEIPT_ORDER[k] ? orderedReceipt(value, RECEIPT_ORDER[k]) : value];
      }),
    );
  }

  /* Hide the fields named by JSON pointers (a leaf, or a whole object or array): the sealed
   * record registry.record.redact makes, as a Map in the format's member order. */
  async function redact(sealed, pointers) {
    pointers.forEach(checkPointer);
    const targets = new Set(pointers);
    const found = new Set();
    const hidden = new Set();
    for (const leaf of sealed.leaves) {
      let prefix = "";
      const hits = targets.has(prefix) ? [prefix] : [];
      for (const token of leaf.path) {
        prefix += pointerStep(token);
        if (targets.has(prefix)) hits.push(prefix);
      }
      if (hits.length) {
        hidden.add(leaf.pointer);
        hits.forEach((hit) => found.add(hit));
      }
    }
    for (const pointer of pointers) {
      if (!found.has(pointer)) {
        throw new SealedError(`${JSON.stringify(pointer)}: no such field in the document (never there, or already redacted)`);
      }
    }
    const salts = sealed.doc.get("salts");
    const kept = sealed.leaves.filter((leaf) => !hidden.has(leaf.pointer));
    const newly = [];
    for (const leaf of sealed.leaves) {
      if (hidden.has(leaf.pointer)) newly.push(await fieldHash(leaf, salts.get(leaf.pointer)));
    }
    return new Map([
      ["type", "SealedRecord"],
      ["version", 1],
      ["data", buildTree(kept)],
      ["salts", new Map(kept.map((leaf) => [leaf.pointer, salts.get(leaf.pointer)]))],
      ["redacted", [...sealed.redacted, ...newly].sort()],
      ["digest", sealed.digest],
      ["receipt", orderedReceipt(sealed.doc.get("receipt"))],
    ]);
  }

  /* The text `registry redact` writes for the same record and pointers, after checking that
   * the result still recomputes to the record's digest (so the copy verifies as the original
   * does). */
  async function redactText(text, pointers) {
    const sealed = read(text);
    if ((await recomputeDigest(sealed)) !== sealed.digest) {
      throw new SealedError("this sealed record does not match its own digest: it was altered");
    }
    const out = await redact(sealed, pointers);
    const outText = `${dumps(out)}\n`;
    const again = read(outText);
    if ((await recomputeDigest(again)) !== sealed.digest) {
      throw new SealedError("the fields could not be hidden correctly in this browser");
    }
    return { text: outText, hidden: again.redacted.length - sealed.redacted.length };
  }

  window.RegistryRedact = { SealedError, parse, dumps, read, leavesOf, redact, redactText, recomputeDigest, fieldHash, pointerStep };
})();
