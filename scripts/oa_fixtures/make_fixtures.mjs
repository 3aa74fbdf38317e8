// Writes OpenAttestation v2 fixtures made by the real library, for
// tests/standards/test_openattestation.py. Run it outside the repo's node_modules
// (see tests/standards/fixtures/openattestation/README.md):
//
//   node make_fixtures.mjs <output dir>
//
// Every file is what OpenAttestation itself produced or computed; manifest.json records,
// for each document, OpenAttestation's own verdict on the JSON text as written
// (verifySignature after JSON.parse), its unsalted data (getData), and the hashes oa-verify
// asks a DocumentStore about (its getIntermediateHashes, rebuilt from utils.combineHashString).
// vectors.json holds digests of hand-made data (the quirks of OA's flattening) and the
// library's own number and string formatting, computed by the same code paths.
import { createRequire } from "node:module";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const oa = require("@govtechsg/open-attestation");
const { digestDocument } = require("@govtechsg/open-attestation/dist/cjs/2.0/digest");
const salt = require("@govtechsg/open-attestation/dist/cjs/2.0/salt");
const OA_VERSION = require("@govtechsg/open-attestation/package.json").version;
const LODASH_VERSION = require("lodash/package.json").version;
const FLATLEY_VERSION = require("flatley/package.json").version;

const outDir = process.argv[2];
if (!outDir) {
  console.error("usage: node make_fixtures.mjs <output dir>");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const issuer = (name, documentStore) => ({
  name,
  documentStore,
  identityProof: { type: "DNS-TXT", location: "example.openattestation.com" },
});
const template = { name: "main", type: "EMBEDDED_RENDERER", url: "https://tutorial-renderer.openattestation.com" };

// Three documents for one batch: nested objects, arrays (of objects and of arrays), numbers
// (integers, fractions, exponents), booleans, null, empty containers and awkward strings.
const batch = [
  {
    $template: template,
    issuers: [issuer("Registry of Births", "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0")],
    recipient: { name: "Ada Lovelace", address: { street: "12 St James's Square", country: "GB" } },
    certificate: { number: 1815, fee: 12.5, tiny: 1e-7, huge: 1e21, negative: -3, zero: 0 },
    flags: { verified: true, revoked: false, note: null },
    scores: [90, 85.5, 77],
    matrix: [[1, 2], [3, [4, 5]]],
    emptyObject: {},
    emptyList: [],
  },
  {
    $template: template,
    issuers: [issuer("Registry of Births", "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0")],
    recipient: { name: "Émilie du Châtelet 😀", title: "quote \" backslash \\ colon : newline \n tab \t" },
    attachments: [
      { filename: "a.pdf", type: "application/pdf", data: "JVBERi0xLjQK" },
      { filename: "b.png", type: "image/png", data: "iVBORw0KGgo=" },
    ],
    remarks: ["", "trailing space ", "\u2028line separator", "0x10"],
    amount: 0.1,
  },
  {
    $template: template,
    issuers: [issuer("Registry of Births", "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0")],
    recipient: { name: "Grace Hopper" },
    people: [
      { name: "a", age: 1, tags: ["x", "y"] },
      { name: "b", age: 2, tags: [] },
    ],
    nothing: null,
    yes: true,
  },
];

// Five small documents: OA's tree promotes an odd node, so proofs of 2 and 3 hashes appear.
const batch5 = ["one", "two", "three", "four", "five"].map((id, i) => ({
  id,
  issuers: [issuer("Batch Issuer", "0x5FbDB2315678afecb367f032d93F642f64180aa3")],
  recipient: { name: `Recipient ${i}` },
}));

const manifest = {
  library: "@govtechsg/open-attestation",
  version: OA_VERSION,
  lodash: LODASH_VERSION,
  flatley: FLATLEY_VERSION,
  node: process.version,
  documents: {},
};

// oa-verify's getIntermediateHashes (src/verifiers/documentStatus/utils.ts), on OA's own helper.
const intermediateHashes = (targetHash, proofs = []) => {
  const hashes = [`0x${targetHash}`];
  proofs.reduce((prev, curr) => {
    const next = oa.utils.combineHashString(prev, curr);
    hashes.push(`0x${next}`);
    return next;
  }, targetHash);
  return hashes;
};

const write = (name, document, note) => {
  const text = JSON.stringify(document, null, 2) + "\n";
  writeFileSync(join(outDir, name), text);
  const reread = JSON.parse(text);
  let verified;
  try {
    verified = oa.verifySignature(reread);
  } catch (e) {
    verified = `error: ${e.message}`;
  }
  let data;
  try {
    data = oa.getData(reread);
  } catch (e) {
    data = `error: ${e.message}`;
  }
  manifest.documents[name] = {
    note,
    verifySignature: verified,
    verifySignatureInMemory: oa.verifySignature(document),
    digest: digestDocument(reread),
    intermediateHashes: intermediateHashes(reread.signature.targetHash, reread.signature.proof),
    issuedHash: `0x${reread.signature.merkleRoot}`,
    data,
  };
};

const wrapped = oa.wrapDocuments(batch);
wrapped.forEach((d, i) => write(`batch3-${i}.json`, d, "one of three documents wrapped together"));
oa.wrapDocuments(batch5).forEach((d, i) => write(`batch5-${i}.json`, d, "one of five documents wrapped together"));

write(
  "obfuscated-fields.json",
  oa.obfuscateDocument(wrapped[0], ["recipient.address.street", "certificate.fee", "flags"]),
  "batch3-0 with a nested field, a number and a whole object obfuscated: still verifies"
);
write(
  "obfuscated-twice.json",
  oa.obfuscateDocument(oa.obfuscateDocument(wrapped[1], "amount"), ["attachments"]),
  "batch3-1 obfuscated in two steps (hashes accumulate in privacy.obfuscatedData)"
);
write(
  "obfuscated-last-field.json",
  oa.obfuscateDocument(wrapped[2], "recipient.name"),
  "obfuscating the only field of an object leaves {} behind, which OA then hashes: OA rejects it"
);
write(
  "obfuscated-array-element.json",
  oa.obfuscateDocument(wrapped[0], "scores.1"),
  "obfuscating an array element leaves a hole, written to JSON as null: OA rejects the JSON (accepts it in memory)"
);

// Quirks of OA's flattening, wrapped by OA itself: a key under "" lands on the same flat key
// as a top-level one (the later one wins), and the flat keys __proto__, constructor and
// prototype never reach the hash. Each is also written tampered, which OA still accepts.
const shadowRaw = JSON.parse(
  JSON.stringify({
    issuers: [issuer("Quirk Issuer", "0x5FbDB2315678afecb367f032d93F642f64180aa3")],
    note: "shown",
    "": { note: "hashed instead" },
    constructor: "not hashed",
    prototype: "not hashed either",
  })
);
const protoRaw = JSON.parse(
  '{"issuers":[{"name":"Quirk Issuer","documentStore":"0x5FbDB2315678afecb367f032d93F642f64180aa3",' +
    '"identityProof":{"type":"DNS-TXT","location":"example.openattestation.com"}}],"__proto__":"not hashed"}'
);
const quirks = oa.wrapDocuments([shadowRaw, protoRaw]);
write("quirk-uncovered-keys.json", quirks[0], "keys OA's hash does not cover: note (shadowed), constructor, prototype");
write("quirk-proto-key.json", quirks[1], "a top-level __proto__ key, which OA's hash does not cover");
const tampered = JSON.parse(JSON.stringify(quirks[0]));
const saltOf = (value) => value.slice(0, 37);
tampered.data.note = `${saltOf(tampered.data.note)}string:tampered`;
tampered.data.constructor = `${saltOf(tampered.data.constructor)}string:tampered`;
tampered.data.prototype = `${saltOf(tampered.data.prototype)}string:tampered`;
write("quirk-uncovered-keys-tampered.json", tampered, "quirk-uncovered-keys with every uncovered value changed: OA still accepts it");
const tamperedProto = JSON.parse(JSON.stringify(quirks[1]));
tamperedProto.data.__proto__ = `${saltOf(tamperedProto.data.__proto__)}string:tampered`;
write("quirk-proto-key-tampered.json", tamperedProto, "quirk-proto-key with the __proto__ value changed: OA still accepts it");

// Digests of hand-made data, from JSON text, so numbers are read exactly as OA reads them.
const digestCases = [
  ["plain", '{"key1":"value1"}', []],
  ["numbers", '{"a":1e21,"b":1e-7,"c":0.1,"d":-0,"e":123456789012345678901234,"f":1.5e300,"g":5e-324,"h":100,"i":1.0,"j":-2.5e-9,"k":1e400}', []],
  ["booleans-null", '{"a":true,"b":false,"c":null}', []],
  ["empty-containers", '{"a":{},"b":[],"c":[[]],"d":{"e":{}}}', []],
  ["arrays", '{"a":["x",["y",{"z":"w"}]]}', []],
  ["array-vs-object", '{"a":{"0":"x"}}', []],
  ["empty-key", '{"b":"v1","":{"b":"v2"},"c":{"":"y"}}', []],
  ["dropped-keys", '{"__proto__":"x","constructor":"y","prototype":"z","a":{"constructor":"q"}}', []],
  ["strings", '{"s":"\\u2028 \\u0000 \\u001f \\u007f \\ud800 \\udc00x \\ud83d\\ude00 é \\"\\\\/"}', []],
  ["unicode-key", '{"clé\\n":"v","\\ud800":"lone"}', []],
  ["obfuscated-only", "{}", ["1549a7b5fac4126fa0fbdea8c156930790691317e30400feb76c0f5cec06b396"]],
  ["obfuscated-upper", '{"k":"v"}', ["1549A7B5FAC4126FA0FBDEA8C156930790691317E30400FEB76C0F5CEC06B396"]],
];
// Number literals as text that both Number() here and Python's int()/float() read alike.
const numbers = ["0", "-0", "1", "-1", "0.1", "1e21", "1e-7", "1e-6", "123e-20", "1.5e300", "5e-324", "9007199254740992",
  "9007199254740995", "123456789012345678901234", "0.3333333333333333", "100", "1e20", "-2.5e-9", "1.7976931348623157e308",
  "NaN", "Infinity", "-Infinity"];
const unsaltInputs = [
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:string:hello",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:string:  lead and trail  ",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:string:tab\t\u00a0\ufeff",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:string:a:b:c",
  "3B2C2A43-4A0A-4C4E-8A6A-0E4C5D6E7F80:string:upper-case uuid",
  "3b2c2a43-4a0a-1c4e-8a6a-0e4c5d6e7f80:string:not a v4 uuid",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number:5",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number:-1.5e+21",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number:",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number: 0x10 ",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number:0b101",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number:.5",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number:5.",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number:1_000",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number:abc",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number:-Infinity",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number:-0x10",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:boolean:true",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:boolean:True",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:null:null",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:null:anything",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:undefined:undefined",
  "3b2c2a43-4a0a-4c4e-8a6a-0e4c5d6e7f80:number",
  "not salted",
  "",
];
const describe = (value) =>
  value === undefined
    ? { type: "undefined" }
    : typeof value === "number"
      ? { type: "number", text: String(value), negativeZero: Object.is(value, -0) }
      : { type: typeof value, value };
const vectors = {
  digests: digestCases.map(([name, text, obfuscated]) => {
    const document = { data: JSON.parse(text), privacy: { obfuscatedData: obfuscated } };
    let digest;
    try {
      digest = digestDocument(document);
    } catch (e) {
      digest = `error: ${e.message}`;
    }
    return { name, data: text, obfuscated, digest };
  }),
  dottedKey: (() => {
    try {
      return digestDocument({ data: { "a.b": "x" } });
    } catch (e) {
      return `error: ${e.message}`;
    }
  })(),
  numbers: numbers.map((text) => {
    const n = Number(text);
    return { input: text, string: String(n), json: JSON.stringify({ k: n }), typed: salt.primitiveToTypedString(n) };
  }),
  unsalt: unsaltInputs.map((input) => {
    try {
      return { input, output: describe(salt.unsalt(input)) };
    } catch (e) {
      return { input, error: e.message };
    }
  }),
};

writeFileSync(join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
writeFileSync(join(outDir, "vectors.json"), JSON.stringify(vectors, null, 2) + "\n");
console.log(`wrote ${Object.keys(manifest.documents).length} documents to ${outDir} with OA ${OA_VERSION}`);
