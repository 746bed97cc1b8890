#!/usr/bin/env python3
"""Writes the seed corpora under corpus/<target>/: small, real-looking inputs for each fuzz
target (the reference's HMAC vectors, both event shapes, the shipped WorkMarket template
rendered, amounts and envelopes as WorkMarket sends them). Run from fuzz/; idempotent."""

import hashlib
import hmac
import json
import os
import urllib.parse

SECRET = b"test_secret"  # the key of the reference's HMAC vectors; the target uses it too
NOW = 1706745620


def write(target, name, data):
    folder = os.path.join("corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def sign(t, body):
    return hmac.new(SECRET, f"{t}.".encode() + body, hashlib.sha256).hexdigest()


POLICY_ACTIVE = {
    "type": "policy.active",
    "created": 1696015731,
    "data": {
        "id": "pl_WzFRszJhoY", "object": "policy", "is_active": True, "quote": "qt_5DciVga8Kt",
        "status": "active", "pdf_url": "https://x/policy.pdf",
        "certificates": {"wc_coi_pdf_url": None, "gl_coi_pdf_url": "https://x/gl.pdf"},
        "effective_date": "2023-10-01T00:00:00Z", "expiration_date": "2023-10-31T00:00:00Z",
        "created": "2023-09-29T19:28:51Z",
    },
}
CERTIFICATE_FLAGGED = {
    "id": "evt_abc123", "type": "certificate.flagged", "created": 1706745620,
    "data": {"object": {"id": "ci_YnsHeB9PTo", "contractor": "cn_Ehb3bYa", "status": "flagged", "created": 1706745600}},
}
ASSIGNMENT_ACTIVE = {
    "id": "ev_2", "type": "assignment.active", "created": 1706745620,
    "data": {"id": "an_o1vF5W4LZa", "contractor": "cn_JL8823580", "job": "jb_7zVDwpxK8r", "policy": "pl_JL88235801",
             "eligible": {"result": True, "message": "ok"}, "bind": True, "cancelled": False},
}
SESSION_STARTED = {
    "id": "ev_3", "type": "application.started", "created": 1706745620,
    "data": {"id": "ias_01FVCHXE7PNQHA1T3S2AXL2QZE", "quote": "qt_9", "step": "verify_info", "expired": False},
}
INVOICE_FAILED = {
    "id": "ev_4", "type": "invoice.charge_card_failed", "created": "2024-02-01T00:00:20Z",
    "data": {"id": "in_skHQw5zJjC", "contractor": {"id": "cn_2"}, "job": "jb_2", "gross_pay": 32500,
             "paycycle_startdate": 1706745620, "paycycle_enddate": 1707350420},
}


def compact(value):
    return json.dumps(value, separators=(",", ":")).encode()


def signature_seeds():
    target = "ten99policy_signature"
    body = compact(POLICY_ACTIVE)
    write(target, "signed-policy-active", f"t={NOW},v1={sign(NOW, body)}\n".encode() + body)
    cert = compact(CERTIFICATE_FLAGGED)
    rotated = f"t={NOW},v0=abc, v1={'0' * 64},v1={sign(NOW, cert)}"
    write(target, "rotated-certificate-flagged", rotated.encode() + b"\n" + cert)
    write(target, "stale", f"t={NOW - 3600},v1={sign(NOW - 3600, body)}\n".encode() + body)
    # The reference's vectors: HMAC-SHA256("test_secret", "") and of "😀", as v1 values.
    write(target, "vector-empty", "t=0,v1=f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd\n")
    write(target, "vector-emoji",
          "t=0,v1=837da296d05c4fe31f61d5d7ead035099d9585a5bcde87de952012a78f0b0c43\n😀".encode())
    write(target, "no-timestamp", f"v1={sign(NOW, body)}\n".encode() + body)
    write(target, "garbage", b"garbage\n{}")


def event_seeds():
    target = "ten99policy_event"
    for name, event in [("policy-active-data-shape", POLICY_ACTIVE), ("certificate-object-shape", CERTIFICATE_FLAGGED),
                        ("assignment-active", ASSIGNMENT_ACTIVE), ("application-started", SESSION_STARTED),
                        ("invoice-failed", INVOICE_FAILED)]:
        write(target, name, json.dumps(event, indent=1))
    write(target, "python-repr-data", b'{"id": "ev_9", "type": "policy.renewed", "created": "1700000000", '
          b'"data": "{\'id\': \'pl_9\', \'status\': \'active\', \'quote\': \'qt_9\', \'x\': None, \'y\': True}"}')
    write(target, "guide-spelling", b'{"type": "certificate.validated", "data": {"object": {"id": "ci_1"}}}')


def webhook_seeds():
    target = "workmarket_webhook"
    # The first byte picks the Content-Type: 0 JSON, 2 form, 3 none (see the target).
    with open(os.path.join("..", "examples", "workmarket-webhook.json")) as f:
        template = f.read()
    rendered = (template.replace("${assignment_id}", "6029116324").replace("${status}", "active")
                .replace("${now}", "1764000000"))
    write(target, "template-json", b"\x00" + rendered.encode())
    write(target, "template-json-sniffed", b"\x03" + rendered.encode())
    iso = rendered.replace("Accepted", "Check In").replace("1764000000", "2015-01-13T16:40:18.000Z")
    write(target, "template-json-iso-date", b"\x01" + iso.encode())
    form = urllib.parse.urlencode({"event": "Budget Increase Approved", "assignment_id": "6029116325",
                                   "status": "active", "now": "2015-01-13T16:40:18.000Z"})
    write(target, "template-form", b"\x02" + form.encode())
    write(target, "extra-fields", b"\x00" + compact({"event": "Accepted", "assignment_id": 6029116324, "status": "",
                                                    "resource_id": "8823578", "custom": {"x": 1}}))
    write(target, "unrendered", b"\x00" + template.encode())


def money_seeds():
    for i, amount in enumerate(["325.00", "1,250.5", "19.99", "7", ".75", "$45.50", "-3.10", "1.500",
                                " 42.00 ", "45.5", "1e21", "99999999999999999999", "1,25"]):
        write("workmarket_money", f"amount-{i:02}", amount)


def envelope_seeds():
    target = "workmarket_envelope"

    def envelope(name, status, body, flags=0, header=b""):
        # The target reads the status as 100 + (two bytes % 500).
        prefix = (status - 100).to_bytes(2, "big") + bytes([flags])
        write(target, name, prefix + (header + b"\n" if flags & 3 else b"") + body)

    meta = {"errors": [], "status_code": 200, "version": 1, "requestId": "r1", "execution_time": 0.01,
            "timestamp": 1764000000}
    envelope("v1-ok", 200, compact({"meta": meta, "response": {"id": "6029116324", "status": "active"}}))
    envelope("v1-string-errors-in-200", 200, compact(
        {"meta": dict(meta, status_code=401, errors=["User not authorized to modify assignment 9."]), "response": []}))
    envelope("v1-object-errors", 200, compact(
        {"meta": dict(meta, errors=[{"message": "Bad date", "code": "1"}, "Also this"]), "response": {}}))
    envelope("v1-unsuccessful", 200, compact({"meta": meta, "response": {"successful": False}}))
    envelope("v2-rate-limited", 429, compact(
        {"meta": {"message": "Rate limit reached", "status_code": 429}, "results": []}), flags=2, header=b"120")
    envelope("v2-unauthorized", 401, compact(
        {"meta": {"message": "Not authorized to perform this request.", "status_code": 401}, "results": []}))
    envelope("html-bad-gateway", 502, b"<html><body>Bad gateway</body></html>", flags=1, header=b"5")


if __name__ == "__main__":
    signature_seeds()
    event_seeds()
    webhook_seeds()
    money_seeds()
    envelope_seeds()
