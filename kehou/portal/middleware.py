"""Chinese first: pages are in Simplified Chinese unless the person picked English with the language switch.

Django's ``LocaleMiddleware`` would follow the browser's Accept-Language, so a bureau officer whose browser
happens to be set to English would land on English pages. Pages here follow only the language cookie that
``/i18n/setlang/`` sets (and an explicit ``?lang=`` is not offered). API clients keep the standard behaviour:
they may ask for English error messages with ``Accept-Language: en``.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith("/api/"):
            super().process_request(request)
            return
        supported = {code for code, _name in settings.LANGUAGES}
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
