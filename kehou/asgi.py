import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from kehou.core.asgi_limit import ConcurrencyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehou.settings.base")
application = ConcurrencyLimit(get_asgi_application(), getattr(settings, "KEHOU_MAX_CONCURRENT_REQUESTS", 0))
