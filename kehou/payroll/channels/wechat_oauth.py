"""Finding a teacher's openid, where their pay is transferred: WeChat's web authorisation (网页授权, snsapi_base).

The teacher's phone is sent to ``https://open.weixin.qq.com/connect/oauth2/authorize?appid=…&redirect_uri=…
&response_type=code&scope=snsapi_base&state=…#wechat_redirect``; WeChat sends it back to ``redirect_uri?code=…
&state=…``; the server exchanges the code (valid five minutes, once) at
``GET https://api.weixin.qq.com/sns/oauth2/access_token?appid=…&secret=…&code=…&grant_type=authorization_code``
for ``{"openid": …}`` (or ``{"errcode": …, "errmsg": …}``). The openid is under the same appid as the merchant
transfer's (``KEHOU_WECHAT_APPID``; the secret is ``KEHOU_WECHAT_APP_SECRET``).

The demo's :class:`SimulatorOAuth` stands in for WeChat: its authorise page is the platform's own
(``/pay/account/simulator/``), its codes are signed, expire after five minutes and work once, and its openids are
derived from the account, so a teacher gets the same openid every time, as with WeChat.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Protocol
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core import signing
from django.core.cache import cache

from kehou.payments.channels import config as channel_config

AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
TOKEN_URL = "https://api.weixin.qq.com/sns/oauth2/access_token"  # noqa: S105 (an address, not a secret)
CODE_SECONDS = 300


class OAuthFailed(Exception):
    """The code did not give an openid (expired, used, forged, or the channel refused it)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class OpenIdProvider(Protocol):
    name: str

    def authorize_url(self, *, redirect_uri: str, state: str) -> str: ...

    def exchange(self, code: str) -> str: ...


class WechatOAuth:
    name = "wechat"

    def __init__(self, *, appid: str = "", secret: str = "", timeout: float = 5.0) -> None:
        self.appid = appid or channel_config.env("KEHOU_WECHAT_APPID")
        self.secret = secret or channel_config.env("KEHOU_WECHAT_APP_SECRET")
        self.timeout = timeout
        self.token_url = TOKEN_URL

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "appid": self.appid,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "snsapi_base",
                "state": state,
            }
        )
        return f"{AUTHORIZE_URL}?{query}#wechat_redirect"

    def exchange(self, code: str) -> str:
        if not code or len(code) > 128:
            raise OAuthFailed("invalid_code")
        try:
            answer = requests.get(
                self.token_url,
                params={"appid": self.appid, "secret": self.secret, "code": code, "grant_type": "authorization_code"},
                timeout=self.timeout,
            )
            data = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise OAuthFailed("unavailable", str(exc)[:100]) from None
        if not isinstance(data, dict):
            raise OAuthFailed("malformed")
        if data.get("errcode"):
            raise OAuthFailed(str(data.get("errcode"))[:20], str(data.get("errmsg", ""))[:100])
        openid = data.get("openid")
        if not isinstance(openid, str) or not 0 < len(openid) <= 64:
            raise OAuthFailed("malformed")
        return openid


class SimulatorOAuth:
    name = "simulator"
    SALT = "kehou.payroll.oauth-simulator"

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        return "/pay/account/simulator/?" + urlencode({"redirect_uri": redirect_uri, "state": state})

    @staticmethod
    def openid_for(user_id: int) -> str:
        digest = hashlib.sha256(f"{settings.SECRET_KEY}:openid:{user_id}".encode()).hexdigest()
        return f"sim-o{digest[:23]}"

    def issue(self, user_id: int) -> str:
        """The code the simulated WeChat gives back after the teacher agrees."""
        return signing.dumps({"u": user_id, "n": secrets.token_hex(6)}, salt=self.SALT, compress=True)

    def exchange(self, code: str) -> str:
        if not code or len(code) > 256:
            raise OAuthFailed("40029", "invalid code")
        try:
            data = signing.loads(code, salt=self.SALT, max_age=CODE_SECONDS)
        except signing.SignatureExpired:
            raise OAuthFailed("40163", "code been used or expired") from None
        except signing.BadSignature:
            raise OAuthFailed("40029", "invalid code") from None
        if not cache.add(f"oauth-sim-code:{hashlib.sha256(code.encode()).hexdigest()}", 1, CODE_SECONDS + 5):
            raise OAuthFailed("40163", "code been used")
        return self.openid_for(int(data["u"]))


def provider() -> OpenIdProvider:
    name = str(settings.KEHOU_PAYROLL.get("OAUTH", "simulator"))
    if name == "wechat":
        return WechatOAuth()
    return SimulatorOAuth()
