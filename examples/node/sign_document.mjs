// Signs a document exactly as it is sent and posts it to lienthong (REST).
//
// The signature covers the RFC 8785 (JCS) form of the JSON this script sends, without the
// fields the service fills in (`signature`, ...) and without each attachment's `content`
// (its `sha256` stays): README.md, "Documents". The JSON keeps lowerCamel names, default
// values and numbers as numbers, as a client's own JSON would.
//
// It makes an ECDSA P-256 key, registers it for the sending agency (admin token), signs
// with ECDSA over SHA-256 (algorithm ECDSA_P256, the signature ASN.1 DER), posts the
// document and reads it back. Node 18+, its built-in crypto only.
//
// Environment: LIENTHONG_URL (default http://127.0.0.1:8080), LIENTHONG_ADMIN_TOKEN,
// LIENTHONG_TOKEN (default: the admin token), LIENTHONG_FROM (default 000.02.00.H31),
// LIENTHONG_TO (default 000.00.00.H31).

import { createHash, generateKeyPairSync, sign } from "node:crypto";

// canonical is RFC 8785: members sorted by UTF-16 code units (JavaScript's own string
// order), numbers and strings as JSON.stringify writes them (ECMAScript rules).
function canonical(v) {
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v).sort();
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
  }
  return JSON.stringify(v);
}

async function call(method, url, token, body) {
  const resp = await fetch(url, {
    method,
    headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  return [resp.status, text ? JSON.parse(text) : {}];
}

function fail(msg) {
  console.error(msg);
  process.exit(1);
}

const base = (process.env.LIENTHONG_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const admin = process.env.LIENTHONG_ADMIN_TOKEN || fail("LIENTHONG_ADMIN_TOKEN is needed");
const token = process.env.LIENTHONG_TOKEN || admin;
const sender = process.env.LIENTHONG_FROM || "000.02.00.H31";
const recipient = process.env.LIENTHONG_TO || "000.00.00.H31";
// Vietnam time, to the second: 2026-11-23T09:30:00+07:00.
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const local = new Date(now.getTime() + 7 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, "+07:00");

// 1. A key, registered for the sending agency (PKIX DER public key, base64).
const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const spki = publicKey.export({ type: "spki", format: "der" });
const keyId = "node-example-" + Math.floor(now.getTime() / 1000);
let [status, out] = await call("PUT", `${base}/v1/agencies/${sender}/signing-keys/${keyId}`, admin,
  { algorithm: "ECDSA_P256", public_key: spki.toString("base64") });
if (status !== 200) fail(`registering the key: ${status} ${JSON.stringify(out)}`);

// 2. The document as it will be sent.
const content = Buffer.from("Nội dung công văn ký bằng Node", "utf8");
const document = {
  from: sender,
  to: [recipient],
  codeNumber: String(Math.floor(now.getTime() / 1000) % 100000 + 1),
  codeNotation: "STP-JS",
  promulgationDate: local.slice(0, 10),
  documentType: "Công văn",
  subject: "Về việc thử chữ ký ECDSA của văn bản gửi qua REST",
  signer: { name: "Trần Thị B", position: "Phó Giám đốc", competence: "KT. GIÁM ĐỐC" },
  priority: 1,
  dueDate: "",
  signedAt: local,
  attachments: [{
    name: "cong-van.txt",
    contentType: "text/plain",
    size: content.length,
    sha256: createHash("sha256").update(content).digest("hex"),
    content: content.toString("base64"),
  }],
};

// 3. Sign what is sent, without the attachments' content.
const signed = { ...document, attachments: document.attachments.map(({ content, ...rest }) => rest) };
const value = sign("sha256", Buffer.from(canonical(signed), "utf8"), privateKey);
document.signature = { keyId, algorithm: "ECDSA_P256", value: value.toString("base64") };

// 4. Send it and read it back.
[status, out] = await call("POST", `${base}/v1/documents`, token, document);
if (status !== 200) fail(`sending the document: ${status} ${JSON.stringify(out)}`);
const id = out.id;
let got;
[status, got] = await call("GET", `${base}/v1/documents/${id}`, token);
if (status !== 200 || got.signature?.key_id !== keyId) fail(`reading the document back: ${status} ${JSON.stringify(got)}`);
console.log(`accepted ${id} signed with ${keyId} (ECDSA_P256)`);
