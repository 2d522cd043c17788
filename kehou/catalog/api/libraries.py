"""API of the three-level libraries: entries, adopt (a district), pick (a school), suspend/withdraw/reactivate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from kehou.core.api import ERRORS, ActionView, ScopedReadOnlyViewSet, query_int
from kehou.core.scope import Scope
from kehou.orgs import selectors as org_selectors

from ..models import LibraryEntry, Submission
from ..selectors import library_entries, with_usable
from ..serializers.libraries import (
    AdoptInputSerializer,
    LibraryEntryDetailSerializer,
    LibraryEntrySerializer,
    PickInputSerializer,
    StatusInputSerializer,
    StatusResultSerializer,
)
from ..services import libraries


@extend_schema_view(
    list=extend_schema(
        summary="Library entries in the caller's scope (city, district and school libraries)",
        description=(
            "Everyone signed in with a role reads the city library; a district's library is read by its bureau and "
            "its schools; a school's library by the school and its district. `usable` is derived from the whole "
            "chain: an entry is usable while it and everything upstream of it are active."
        ),
        parameters=[
            OpenApiParameter("level", str, enum=LibraryEntry.Level.values),
            OpenApiParameter("district", str, description="district code: its library and its schools' libraries"),
            OpenApiParameter("school", int, description="school id: its school library"),
            OpenApiParameter("kind", str, enum=Submission.Kind.values),
            OpenApiParameter("category", str, description="category code"),
            OpenApiParameter("status", str, enum=LibraryEntry.Status.values),
            OpenApiParameter("usable", str, enum=["yes", "no"]),
            OpenApiParameter("search", str, description="name contains"),
        ],
    ),
    retrieve=extend_schema(
        summary="One library entry, with its status history", responses=LibraryEntryDetailSerializer
    ),
)
class LibraryEntryViewSet(ScopedReadOnlyViewSet):
    serializer_class = LibraryEntrySerializer

    def get_serializer_class(self) -> type[Any]:
        return LibraryEntryDetailSerializer if self.action == "retrieve" else LibraryEntrySerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        qs = library_entries(
            scope=scope,
            level=p.get("level", ""),
            district_code=p.get("district", "").strip(),
            school_id=query_int(self.request, "school"),
            kind=p.get("kind", ""),
            category=p.get("category", "").strip(),
            status=p.get("status", ""),
            usable=p.get("usable", ""),
            search=p.get("search", "").strip(),
        )
        if self.action == "retrieve":
            qs = qs.prefetch_related("events__actor")
        return qs


def _entries() -> QuerySet[LibraryEntry]:
    return with_usable(LibraryEntry.objects.select_related("item", "region", "school", "upstream"))


def _entry_response(entry: LibraryEntry, *, status_code: int = 200) -> Response:
    fresh = _entries().prefetch_related("events__actor").get(pk=entry.pk)
    return Response(LibraryEntryDetailSerializer(fresh).data, status=status_code)


class _EntryAction(ActionView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return _entries()


@extend_schema_view(
    post=extend_schema(
        summary="Adopt a city-library entry into a district library (filed with the city)",
        description=(
            "A district bureau adopts into its own district's library (`district` may be left out); the city bureau "
            "names the district. Codes: `not_a_city_entry`, `entry_not_active`, 409 `already_in_library`."
        ),
        request=AdoptInputSerializer,
        responses={201: LibraryEntryDetailSerializer, 400: ERRORS, 404: ERRORS, 409: ERRORS},
    )
)
class LibraryAdoptView(_EntryAction):
    body = AdoptInputSerializer

    def act(self, obj: LibraryEntry, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        district = org_selectors.district_named(scope=self.scope, code=values.get("district"))
        adopted = libraries.library_adopt(actor=actor, district=district, city_entry=obj, now=now)
        return _entry_response(adopted, status_code=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        summary="Pick an entry into a school library (filed with the city)",
        description=(
            "A school admin picks from the library its school may use: the city library for 局属 and other "
            "city-managed schools, its own district's library for district schools (`school` may be left out). "
            "Anything else is refused with `entry_not_available`; also `entry_not_active`, 409 `already_in_library`."
        ),
        request=PickInputSerializer,
        responses={201: LibraryEntryDetailSerializer, 400: ERRORS, 404: ERRORS, 409: ERRORS},
    )
)
class LibraryPickView(_EntryAction):
    body = PickInputSerializer

    def act(self, obj: LibraryEntry, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        school = org_selectors.school_named(scope=self.scope, school_id=values.get("school"))
        picked = libraries.library_pick(actor=actor, school=school, entry=obj, now=now)
        return _entry_response(picked, status_code=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        summary="Suspend, withdraw or reactivate a library entry",
        description=(
            "The city bureau for the city library, a district bureau for its own, a school admin for its school's. "
            "Everything downstream stops being usable with it; district and school changes are filed with the city. "
            "A reason is required (`reason_required`); a withdrawn entry cannot change again (409 `entry_withdrawn`)."
        ),
        request=StatusInputSerializer,
        responses={200: StatusResultSerializer, 400: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS},
    )
)
class LibraryStatusView(_EntryAction):
    body = StatusInputSerializer

    def act(self, obj: LibraryEntry, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        affected = libraries.library_set_status(
            actor=actor, entry=obj, status=values["status"], reason=values.get("reason", ""), now=now
        )
        fresh = _entries().prefetch_related("events__actor").get(pk=obj.pk)
        return {"entry": LibraryEntryDetailSerializer(fresh).data, "downstream_affected": affected}
