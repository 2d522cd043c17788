"""The JPush adapter speaks the provider's REST protocol: tested against a local HTTP server on loopback."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.test import override_settings

from kehou.notify.push import JPushBackend


@pytest.fixture
def jpush() -> Iterator[dict[str, Any]]:
    seen: dict[str, Any] = {"requests": [], "status": 200, "reply": {"sendno": "0", "msg_id": "54043196018"}}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            seen["requests"].append(
                {"auth": self.headers["Authorization"], "body": json.loads(self.rfile.read(length))}
            )
            out = json.dumps(seen["reply"]).encode()
            self.send_response(seen["status"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen["url"] = f"http://127.0.0.1:{server.server_port}/v3/push"
    yield seen
    server.shutdown()


def test_a_push_addresses_the_account_alias_with_basic_auth(jpush: dict[str, Any]) -> None:
    with override_settings(KEHOU_JPUSH_URL=jpush["url"], KEHOU_JPUSH_APP_KEY="appkey", KEHOU_JPUSH_MASTER_SECRET="s3"):
        JPushBackend().send(user_id=42, title="王老师点评了李梓涵", body="今天很专注", link="/parent/comments/")
    [req] = jpush["requests"]
    assert req["auth"] == "Basic " + base64.b64encode(b"appkey:s3").decode()
    assert req["body"]["audience"] == {"alias": ["u42"]}
    assert req["body"]["notification"]["android"]["title"] == "王老师点评了李梓涵"
    assert req["body"]["notification"]["ios"]["alert"]["body"] == "今天很专注"
    assert req["body"]["notification"]["android"]["extras"] == {"link": "/parent/comments/"}


def test_a_refusal_raises_so_that_the_worker_retries(jpush: dict[str, Any]) -> None:
    jpush["status"], jpush["reply"] = 401, {"error": {"code": 1004, "message": "app_key/master_secret mismatch"}}
    from urllib.error import HTTPError

    settings = {"KEHOU_JPUSH_URL": jpush["url"], "KEHOU_JPUSH_APP_KEY": "k", "KEHOU_JPUSH_MASTER_SECRET": "bad"}
    with override_settings(**settings), pytest.raises(HTTPError):
        JPushBackend().send(user_id=1, title="t", body="b", link="")
    with override_settings(KEHOU_JPUSH_APP_KEY=""), pytest.raises(RuntimeError, match="not set"):
        JPushBackend().send(user_id=1, title="t", body="b", link="")
