"""A teacher binds the WeChat account their pay goes to: the openid comes from WeChat's web authorisation (the
simulator in the demo, WeChat's real token endpoint in production, tested here against a local server), never from
the client; codes work once and expire; a foreign or stale state binds nothing; a payout on its way pins the
account."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import signing

from kehou.conftest import City, api_as, page_as
from kehou.core.errors import KehouError
from kehou.core.models import AuditEntry
from kehou.payroll.channels.wechat_oauth import OAuthFailed, SimulatorOAuth, WechatOAuth
from kehou.payroll.models import Payee, Payout, PayoutBatch
from kehou.payroll.services import payees

pytestmark = pytest.mark.django_db


def test_the_phone_binds_through_the_simulated_authorisation(city: City) -> None:
    teacher = city.users["teacher"]
    phone = page_as(teacher)
    page = phone.get("/pay/account/")
    assert page.status_code == 200 and b"data-payee-missing" in page.content
    r = phone.post("/pay/account/", {"real_name": "王小明"})
    assert r.status_code == 302 and r["Location"].startswith("/pay/account/simulator/?")
    query = parse_qs(urlparse(r["Location"]).query)
    shown = phone.get(r["Location"])
    assert shown.status_code == 200 and b"data-oauth-simulator" in shown.content
    back = phone.post(
        "/pay/account/simulator/", {"redirect_uri": query["redirect_uri"][0], "state": query["state"][0], "agree": "1"}
    )
    assert back.status_code == 302 and "/pay/account/callback?" in back["Location"]
    done = phone.get(back["Location"])
    assert done.status_code == 302
    payee = Payee.objects.get(teacher=teacher.teacher_profile)
    assert payee.openid == SimulatorOAuth.openid_for(teacher.pk) and payee.real_name == "王小明"
    assert AuditEntry.objects.filter(action="payroll.payee_bind").count() == 1
    assert b"data-payee-bound" in phone.get("/pay/account/").content
    # the same callback again (a replayed link) binds nothing more: its state is spent
    phone.get(back["Location"])
    assert AuditEntry.objects.filter(action="payroll.payee_bind").count() == 1


def test_a_state_from_another_session_or_a_declined_authorisation_binds_nothing(city: City) -> None:
    teacher = city.users["teacher"]
    phone = page_as(teacher)
    r = phone.post("/pay/account/", {"real_name": "王小明"})
    query = parse_qs(urlparse(r["Location"]).query)
    # declined: WeChat sends the phone back without a code
    back = phone.post(
        "/pay/account/simulator/", {"redirect_uri": query["redirect_uri"][0], "state": query["state"][0], "agree": "0"}
    )
    phone.get(back["Location"])
    assert not Payee.objects.exists()
    # a code for this teacher arriving in a session that did not start the authorisation (login CSRF)
    code = SimulatorOAuth().issue(teacher.pk)
    phone.get(f"/pay/account/callback?code={code}&state=forged")
    assert not Payee.objects.exists()
    # the simulator only sends the phone back to this site
    evil = phone.get("/pay/account/simulator/?redirect_uri=https://evil.example/x&state=s")
    assert evil.status_code == 200 and b"data-oauth-invalid" in evil.content and b'name="agree"' not in evil.content
    assert (
        phone.post("/pay/account/simulator/", {"redirect_uri": "https://evil.example/x", "agree": "1"}).status_code
        == 400
    )


def test_codes_work_once_and_cannot_be_forged(city: City) -> None:
    teacher = city.users["teacher"]
    code = SimulatorOAuth().issue(teacher.pk)
    for bad in ("", "x" * 300, signing.dumps({"u": teacher.pk}, salt="another"), code[:-2] + "zz"):
        with pytest.raises(KehouError) as e:
            payees.payee_bind(actor=teacher, code=bad, real_name="王小明", now=_now())
        assert e.value.code == "payee_invalid"
    payees.payee_bind(actor=teacher, code=code, real_name="王小明", now=_now())
    with pytest.raises(KehouError) as e:
        payees.payee_bind(actor=teacher, code=code, real_name="王小明", now=_now())
    assert e.value.code == "payee_invalid" and e.value.fields["oauth"] == "40163"
    for name in ("", "王", "<script>", "a" * 41, "王小明1"):
        with pytest.raises(KehouError) as e:
            payees.payee_bind(actor=teacher, code=SimulatorOAuth().issue(teacher.pk), real_name=name, now=_now())
        assert e.value.code == "payee_invalid"
    with pytest.raises(KehouError) as e:  # a parent is no teacher
        payees.payee_bind(actor=city.users["parent"], code=SimulatorOAuth().issue(1), real_name="王小明", now=_now())
    assert e.value.code == "payee_invalid"


def test_a_payout_on_its_way_pins_the_account(city: City) -> None:
    teacher = city.users["teacher"]
    payees.payee_bind(actor=teacher, code=SimulatorOAuth().issue(teacher.pk), real_name="王小明", now=_now())
    from kehou.orgs.models import OperatorCompany

    batch = PayoutBatch.objects.create(
        operator=OperatorCompany.objects.get(staff__user=city.users["operator_staff"]),
        period="2026-09",
        request_key="pin-test-0001",
        created_by=city.users["operator_staff"],
        created_at=_now(),
    )
    Payout.objects.create(
        batch=batch,
        teacher=teacher.teacher_profile,
        period="2026-09",
        teacher_kind="staff",
        gross_fen=100,
        net_fen=100,
        out_bill_no="KPPINTEST0001",
        channel="simulator",
        status="sent",
        created_at=_now(),
    )
    with pytest.raises(KehouError) as e:
        payees.payee_bind(actor=teacher, code=SimulatorOAuth().issue(teacher.pk), real_name="王大明", now=_now())
    assert e.value.code == "payee_busy"
    assert Payee.objects.get().real_name == "王小明"


def test_the_api_binds_from_a_code_and_shows_the_masked_account(city: City) -> None:
    teacher = city.users["teacher"]
    client = api_as(teacher)
    assert client.get("/api/v1/payee/").json() == {"bound": False, "openid": "", "real_name": "", "bound_at": None}
    r = client.post(
        "/api/v1/payee/", {"code": SimulatorOAuth().issue(teacher.pk), "real_name": "王小明"}, format="json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["openid"].endswith("…") and len(r.json()["openid"]) == 7
    assert client.get("/api/v1/payee/").json()["real_name"] == "王小明"
    r = client.post("/api/v1/payee/", {"code": "x", "real_name": "王小明", "openid": "oEVIL"}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_field"
    assert api_as(city.users["parent"]).get("/api/v1/payee/").json()["bound"] is False
    r = api_as(city.users["parent"]).post("/api/v1/payee/", {"code": "x", "real_name": "王小明"}, format="json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "payee_invalid"


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


class _Token(BaseHTTPRequestHandler):
    answers: dict[str, Any] = {}
    seen: list[dict[str, list[str]]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        self.seen.append(query)
        body = json.dumps(self.answers.get(query.get("code", [""])[0], {"errcode": 40029, "errmsg": "invalid code"}))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def token_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Token)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/sns/oauth2/access_token"
    server.shutdown()


def test_wechat_web_authorisation_speaks_the_real_protocol(token_server: str) -> None:
    oauth = WechatOAuth(appid="wx1234567890abcdef", secret="s3cret")
    oauth.token_url = token_server
    url = oauth.authorize_url(redirect_uri="https://kehou.example/pay/account/callback", state="abc")
    assert url.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx1234567890abcdef&")
    assert "scope=snsapi_base" in url and "response_type=code" in url and url.endswith("#wechat_redirect")
    _Token.answers = {"good": {"access_token": "AT", "expires_in": 7200, "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}
    assert oauth.exchange("good") == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    sent = _Token.seen[-1]
    assert sent["appid"] == ["wx1234567890abcdef"] and sent["secret"] == ["s3cret"]
    assert sent["grant_type"] == ["authorization_code"] and sent["code"] == ["good"]
    with pytest.raises(OAuthFailed) as e:
        oauth.exchange("used")
    assert e.value.code == "40029"
    _Token.answers = {"odd": {"openid": 42}}
    with pytest.raises(OAuthFailed) as e:
        oauth.exchange("odd")
    assert e.value.code == "malformed"
    oauth.token_url = "http://127.0.0.1:9/nothing"
    with pytest.raises(OAuthFailed) as e:
        oauth.exchange("good")
    assert e.value.code == "unavailable"
