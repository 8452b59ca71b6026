#!/usr/bin/env python3
"""Signs a document exactly as it is sent and posts it to lienthong (REST).

The signature covers the RFC 8785 (JCS) form of the JSON this script sends, without the
fields the service fills in (`signature`, ...) and without each attachment's `content`
(its `sha256` stays): README.md, "Documents". The JSON keeps lowerCamel names, default
values and numbers as numbers, as a client's own JSON would.

It makes an RSA key (3072 bits), registers it for the sending agency (admin token), signs
with RSASSA-PSS over SHA-256 (algorithm RSA_PSS_SHA256: MGF1 with SHA-256, salt of 32
bytes), posts the document and reads it back.

Needs Python 3.9+ and the `cryptography` package (Debian: python3-cryptography).

Environment:
  LIENTHONG_URL          base URL of the gateway (default http://127.0.0.1:8080)
  LIENTHONG_ADMIN_TOKEN  admin token, to register the key
  LIENTHONG_TOKEN        token that sends the document (default: the admin token)
  LIENTHONG_FROM         sending agency code (default 000.02.00.H31)
  LIENTHONG_TO           receiving agency code (default 000.00.00.H31)
"""

import base64
import datetime
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def canonical(value):
    """RFC 8785 for what a document holds: objects, arrays, strings, integers, booleans.

    Python sorts keys by code point; RFC 8785 sorts by UTF-16 code unit: the two differ
    only for characters outside the Basic Multilingual Plane, which this document does not
    use in member names. Floats would need ECMAScript number formatting: none here.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def call(method, url, token, body=None):
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def main():
    base = os.environ.get("LIENTHONG_URL", "http://127.0.0.1:8080").rstrip("/")
    admin = os.environ["LIENTHONG_ADMIN_TOKEN"]
    token = os.environ.get("LIENTHONG_TOKEN", admin)
    sender = os.environ.get("LIENTHONG_FROM", "000.02.00.H31")
    recipient = os.environ.get("LIENTHONG_TO", "000.00.00.H31")
    vietnam = datetime.timezone(datetime.timedelta(hours=7))
    now = datetime.datetime.now(vietnam).replace(microsecond=0)

    # 1. A key, registered for the sending agency (PKIX DER public key, base64).
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = "python-example-%d" % int(now.timestamp())
    status, out = call("PUT", "%s/v1/agencies/%s/signing-keys/%s" % (base, sender, key_id), admin,
                       {"algorithm": "RSA_PSS_SHA256", "public_key": base64.b64encode(spki).decode()})
    if status != 200:
        sys.exit("registering the key: %d %s" % (status, out))

    # 2. The document as it will be sent.
    content = "Nội dung công văn ký bằng Python".encode("utf-8")
    document = {
        "from": sender,
        "to": [recipient],
        "codeNumber": "%d" % (int(now.timestamp()) % 100000),
        "codeNotation": "STP-PY",
        "promulgationDate": now.date().isoformat(),
        "documentType": "Công văn",
        "subject": "Về việc thử chữ ký RSA-PSS của văn bản gửi qua REST",
        "signer": {"name": "Nguyễn Văn A", "position": "Giám đốc", "competence": ""},
        "priority": 0,
        "dueDate": "",
        "signedAt": now.isoformat(),
        "attachments": [{
            "name": "cong-van.txt",
            "contentType": "text/plain",
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "content": base64.b64encode(content).decode(),
        }],
    }

    # 3. Sign what is sent, without the attachments' content.
    signed = dict(document)
    signed["attachments"] = [{k: v for k, v in a.items() if k != "content"} for a in document["attachments"]]
    value = key.sign(canonical(signed), padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    document["signature"] = {"keyId": key_id, "algorithm": "RSA_PSS_SHA256", "value": base64.b64encode(value).decode()}

    # 4. Send it and read it back.
    status, out = call("POST", base + "/v1/documents", token, document)
    if status != 200:
        sys.exit("sending the document: %d %s" % (status, out))
    doc_id = out["id"]
    status, got = call("GET", "%s/v1/documents/%s" % (base, doc_id), token)
    if status != 200 or got.get("signature", {}).get("key_id") != key_id:
        sys.exit("reading the document back: %d %s" % (status, got))
    print("accepted %s signed with %s (RSA_PSS_SHA256)" % (doc_id, key_id))


if __name__ == "__main__":
    main()
