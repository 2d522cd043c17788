"""Every app's pages (its ``urls.py``), composed in one namespace, ``portal:`` (the name every template and
``reverse`` call uses)."""

from kehou.attendance.urls import urlpatterns as attendance
from kehou.catalog.urls import urlpatterns as catalog
from kehou.core.urls import urlpatterns as core
from kehou.enrolment.urls import urlpatterns as enrolment
from kehou.notify.urls import urlpatterns as notify
from kehou.orgs.urls import urlpatterns as orgs
from kehou.payments.urls import urlpatterns as payments
from kehou.people.urls import urlpatterns as people
from kehou.portal.urls import urlpatterns as portal
from kehou.supervision.urls import urlpatterns as supervision
from kehou.teaching.urls import urlpatterns as teaching

app_name = "portal"
urlpatterns: list = [
    *portal,
    *orgs,
    *people,
    *core,
    *catalog,
    *enrolment,
    *notify,
    *payments,
    *attendance,
    *teaching,
    *supervision,
]
