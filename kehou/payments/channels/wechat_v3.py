"""WeChat Pay API v3 message security, on the ``wechatpayv3`` package's primitives.

A notification carries ``Wechatpay-Timestamp``, ``Wechatpay-Nonce``, ``Wechatpay-Serial`` and
``Wechatpay-Signature`` headers; the signature is SHA256-with-RSA (PKCS#1 v1.5) over
``"<timestamp>\\n<nonce>\\n<body>\\n"`` by the platform key whose certificate (or public key id) is named by the
serial. The body's ``resource`` is AEAD_AES_256_GCM-encrypted with the merchant's APIv3 key, with the resource's
``nonce`` and ``associated_data``. We choose the certificate by serial from the ones configured locally and never
fetch one on an unknown serial (the package's own client would call the platform then): an unknown serial is a
rejection. The simulator signs its notifications the same way with a key of its own.
"""

from __future__ import annotations

import json
import re
import secrets
from base64 import b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from wechatpayv3.utils import aes_decrypt, load_certificate, load_private_key, load_public_key, rsa_sign, rsa_verify

from .base import MAX_NOTIFICATION_AGE_SECONDS, NotificationRejected

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds (a 12-digit bound leaves room past the year 5000)


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by its HTTP name, also as Django's META key (``HTTP_WECHATPAY_SIGNATURE``) or lower case."""
    for key in (name, name.lower(), "HTTP_" + name.upper().replace("-", "_")):
        if key in headers:
            return str(headers[key])
    return ""


@dataclass(frozen=True)
class PlatformKeys:
    """The platform's verification keys by serial: certificates (PEM) and/or a public key with its id."""

    by_serial: Mapping[str, Any]

    @classmethod
    def load(cls, *, certificates: list[str] = (), public_key: str = "", public_key_id: str = "") -> PlatformKeys:  # type: ignore[assignment]
        keys: dict[str, Any] = {}
        for pem in certificates:
            cert = load_certificate(pem)
            if cert is not None:
                keys[f"{cert.serial_number:X}"] = cert.public_key()
        if public_key and public_key_id:
            keys[public_key_id] = load_public_key(public_key)
        return cls(keys)

    def find(self, serial: str) -> Any:
        if serial in self.by_serial:
            return self.by_serial[serial]
        upper = serial.upper().lstrip("0")
        for known, key in self.by_serial.items():
            if known.upper().lstrip("0") == upper:
                return key
        return None


def verify_notification(
    *, headers: Mapping[str, str], body: bytes, keys: PlatformKeys, apiv3_key: str, now: datetime
) -> dict[str, Any]:
    """The decrypted ``resource`` of a verified notification, with the envelope's ``event_type`` added."""
    try:
        text = body.decode("utf-8", errors="strict") if isinstance(body, bytes) else str(body)
    except UnicodeDecodeError:
        raise NotificationRejected("malformed", "not UTF-8") from None
    if header(headers, "Wechatpay-Signature-Type") not in ("", SIGNATURE_TYPE):
        raise NotificationRejected("bad_signature_type")
    serial = header(headers, "Wechatpay-Serial")
    timestamp = header(headers, "Wechatpay-Timestamp")
    nonce = header(headers, "Wechatpay-Nonce")
    signature = header(headers, "Wechatpay-Signature")
    if not (serial and timestamp and nonce and signature):
        raise NotificationRejected("missing_signature_headers")
    public_key = keys.find(serial)
    if public_key is None:
        raise NotificationRejected("unknown_serial", serial[:64])
    # ASCII digits of a plausible length only: str.isdigit() also takes "²" and other scripts' digits (int() then
    # raises ValueError), and 400 digits overflow the float subtraction (OverflowError), both a 500 before.
    if not TIMESTAMP.fullmatch(timestamp) or abs(now.timestamp() - int(timestamp)) > MAX_NOTIFICATION_AGE_SECONDS:
        raise NotificationRejected("stale_timestamp", timestamp[:40])
    if not rsa_verify(timestamp, nonce, text, signature, public_key):
        raise NotificationRejected("bad_signature")
    try:
        envelope = json.loads(text)
        resource = envelope["resource"]
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise NotificationRejected("bad_algorithm")
        plain = aes_decrypt(
            nonce=resource["nonce"],
            ciphertext=resource["ciphertext"],
            associated_data=resource.get("associated_data") or "",
            apiv3_key=apiv3_key,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NotificationRejected("malformed", type(exc).__name__) from None
    if plain is None:
        raise NotificationRejected("undecryptable")
    try:
        data = json.loads(plain)
    except ValueError:
        raise NotificationRejected("malformed", "resource") from None
    if not isinstance(data, dict):
        raise NotificationRejected("malformed", "resource")
    data["_event_type"] = envelope.get("event_type", "")
    return data


def encrypt_resource(*, data: Mapping[str, Any], apiv3_key: str, associated_data: str) -> dict[str, str]:
    nonce = secrets.token_hex(6)  # 12 characters, as the platform sends
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(
        nonce.encode(), json.dumps(data, ensure_ascii=False).encode(), associated_data.encode()
    )
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": b64encode(ciphertext).decode(),
        "associated_data": associated_data,
        "original_type": "transaction",
        "nonce": nonce,
    }


def sign_notification(
    *,
    data: Mapping[str, Any],
    event_type: str,
    platform_private_key: Any,  # PEM text, or a key already loaded (parsing PEM costs tens of milliseconds)
    serial: str,
    apiv3_key: str,
    now: datetime,
    associated_data: str = "transaction",
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a notification as the platform sends it (used by the simulator and by tests)."""
    envelope = {
        "id": secrets.token_hex(16),
        "create_time": now.isoformat(timespec="seconds"),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": "支付成功" if event_type == "TRANSACTION.SUCCESS" else event_type,
        "resource": encrypt_resource(data=data, apiv3_key=apiv3_key, associated_data=associated_data),
    }
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    timestamp = str(int(now.timestamp()))
    nonce = secrets.token_hex(16).upper()
    key = load_private_key(platform_private_key) if isinstance(platform_private_key, str) else platform_private_key
    signature = rsa_sign(key, f"{timestamp}\n{nonce}\n{body}\n")
    headers = {
        "Wechatpay-Serial": serial,
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": signature,
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
    }
    return headers, body.encode()
