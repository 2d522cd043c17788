"""/api/v1/: each app's API routes (its ``api_urls.py``), composed in the order of the layers. Every route here is
walked by the scope test (kehou/core/tests/test_scope_walk.py)."""

from kehou.attendance.api_urls import urlpatterns as attendance
from kehou.catalog.api_urls import urlpatterns as catalog
from kehou.core.api_urls import urlpatterns as core
from kehou.enrolment.api_urls import urlpatterns as enrolment
from kehou.ledger.api_urls import urlpatterns as ledger
from kehou.notify.api_urls import urlpatterns as notify
from kehou.orgs.api_urls import urlpatterns as orgs
from kehou.payments.api_urls import urlpatterns as payments
from kehou.payroll.api_urls import urlpatterns as payroll
from kehou.people.api_urls import urlpatterns as people
from kehou.supervision.api_urls import urlpatterns as supervision
from kehou.teaching.api_urls import urlpatterns as teaching

app_name = "api"
urlpatterns: list = [
    *people,
    *orgs,
    *core,
    *catalog,
    *enrolment,
    *notify,
    *payments,
    *ledger,
    *attendance,
    *payroll,
    *teaching,
    *supervision,
]
