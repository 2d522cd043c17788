from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("api/v1/", include("kehou.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from drf-spectacular-sidecar, its start-up script served apart (?script): no inline script, so it
    # runs under the Content-Security-Policy. No ReDoc: its page loads fonts from the internet and needs inline
    # script and styles.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("kehou.page_urls")),
]

handler404 = "kehou.portal.views.not_found"
handler500 = "kehou.portal.views.server_error"
