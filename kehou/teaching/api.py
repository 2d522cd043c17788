"""The teaching platform's API: the QR login of a classroom screen (扫码登录).

The screen side needs no account: it starts a login (``POST /api/v1/qr-login/``), polls it with its secret in the
``X-Screen-Secret`` header, and exchanges the approved login for its session. The phone side is a signed-in
teacher: scan (the QR's token), then confirm or reject."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseNotModified
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import permissions, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehou.catalog.models import CatalogItem
from kehou.catalog.serializers.common import LIBRARY_CHOICES
from kehou.core import clock, uploads
from kehou.core.api import ERRORS, NOT_FOUND, ActionView, FileNegotiation, ScopedListAPIView, ScopedObjectView, parsed
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import Forbidden, NotFound
from kehou.core.middleware import client_ip
from kehou.core.scope import Scope, scope_for
from kehou.core.serializers import StrictSerializer
from kehou.enrolment.models import ClassSession

from .middleware import SCREEN_NAME_KEY, SESSION_FLAG
from .models import Courseware, LessonPlan, Presentation, Rendition, ScreenLogin, TeachingGroup
from .qr import qr_data_uri
from .services import courseware as cw
from .services import lessons, outlines
from .services import qr_login as qr

SECRET_HEADER = OpenApiParameter("X-Screen-Secret", str, OpenApiParameter.HEADER, required=True)


class TextField(serializers.CharField):
    """A JSON string: numbers and other types are refused (``invalid``), not turned into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StartBody(StrictSerializer):
    screen_name = TextField(max_length=60, required=False, allow_blank=True, help_text="e.g. 三(2)班教室")


class Started(serializers.Serializer[Any]):
    id = serializers.CharField()
    qr_payload = serializers.CharField(help_text="what the QR code holds: the phone's link")
    qr_svg = serializers.CharField(help_text="the QR code as an SVG data: URI, made on the server")
    match_number = serializers.CharField(help_text="shown on the screen and the phone, to compare")
    expires_at = serializers.DateTimeField()
    secret = serializers.CharField(help_text="the screen's secret: send it as X-Screen-Secret; never shown")


class LoginState(serializers.Serializer[Any]):
    id = serializers.CharField(source="public_id")
    status = serializers.ChoiceField(choices=ScreenLogin.Status.choices)
    expires_at = serializers.DateTimeField()
    match_number = serializers.CharField()
    screen_name = serializers.CharField()
    teacher = serializers.SerializerMethodField(help_text="the scanning teacher's name, once scanned")

    def get_teacher(self, obj: ScreenLogin) -> str:
        user = obj.scanned_by
        return (user.full_name or user.username) if user is not None else ""


class PhoneView(serializers.Serializer[Any]):
    id = serializers.CharField(source="public_id")
    status = serializers.ChoiceField(choices=ScreenLogin.Status.choices)
    screen_name = serializers.CharField()
    screen_ip = serializers.CharField(help_text="the screen's network address")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    match_number = serializers.CharField()


class ScanBody(StrictSerializer):
    token = serializers.CharField(max_length=64, help_text="the token of the QR code's link (/teach/qr/<token>)")


class Exchanged(serializers.Serializer[Any]):
    redirect = serializers.CharField()


def payload(request: Any, token: str) -> str:
    return request.build_absolute_uri(f"/teach/qr/{token}")


class _Screen(APIView):
    authentication_classes: list[Any] = []  # the screen has no account; its secret is the credential
    permission_classes = [permissions.AllowAny]

    def secret(self, request: Request) -> str:
        return request.headers.get("X-Screen-Secret", "")[:64]


class QrLoginStartView(_Screen):
    @extend_schema(
        summary="A classroom screen starts a QR login (no credentials)",
        description="Answers the login's id, the QR code (payload and server-made SVG), the number to match, when it "
        "expires (a few minutes) and the screen's secret. Limited per address and overall (429 "
        "`qr_login_throttled`).",
        request=StartBody,
        responses={201: Started, 400: ERRORS, 429: ERRORS},
    )
    def post(self, request: Request) -> Response:
        values = parsed(request, StartBody) if request._request.body.strip() else {}  # an empty body is fine
        login_row, token, secret = qr.qr_login_start(
            screen_name=values.get("screen_name", ""),
            ip=client_ip(request._request),
            user_agent=request.headers.get("User-Agent", ""),
            now=clock.now(),
        )
        link = payload(request, token)
        data = {
            "id": login_row.public_id,
            "qr_payload": link,
            "qr_svg": qr_data_uri(link),
            "match_number": login_row.match_number,
            "expires_at": login_row.expires_at,
            "secret": secret,
        }
        return Response(Started(data).data, status=201)


class QrLoginStateView(_Screen):
    @extend_schema(
        summary="The screen polls its login (with its secret)",
        description="A wrong or missing secret is the same 404 as a missing login (counted: the login expires after "
        "a few; limited per address).",
        parameters=[SECRET_HEADER],
        responses={200: LoginState, 404: NOT_FOUND, 429: ERRORS},
    )
    def get(self, request: Request, public_id: str) -> Response:
        row = qr.screen_login(
            public_id=public_id, secret=self.secret(request), ip=client_ip(request._request), now=clock.now()
        )
        return Response(LoginState(row).data)


class QrLoginSessionView(_Screen):
    @extend_schema(
        summary="The screen exchanges its approved login for its session (once)",
        description="Sets the session cookie of a session limited to teaching (courseware, outlines, the teacher's "
        "own classes; no rosters, pay or money). 409 `qr_login_used` unless approved and unused.",
        parameters=[SECRET_HEADER],
        request=None,
        responses={200: Exchanged, 404: NOT_FOUND, 409: ERRORS, 429: ERRORS},
    )
    def post(self, request: Request, public_id: str) -> Response:
        user = qr.qr_exchange(
            public_id=public_id, secret=self.secret(request), ip=client_ip(request._request), now=clock.now()
        )
        django_request = request._request
        login(django_request, user, backend="kehou.people.auth.PhoneOrUsernameBackend")
        django_request.session[SESSION_FLAG] = True
        django_request.session[SCREEN_NAME_KEY] = (
            ScreenLogin.objects.filter(public_id=public_id).values_list("screen_name", flat=True).first() or ""
        )
        django_request.session.set_expiry(
            int(timedelta(hours=int(settings.KEHOU_TEACHING["SCREEN_SESSION_HOURS"])).total_seconds())
        )
        return Response({"redirect": "/teach/"})


class _Phone(APIView):
    """The phone's side. A screen's own session never gets here: ``TeachingOnlyMiddleware`` keeps it to teaching."""

    permission_classes = [permissions.IsAuthenticated]
    dangerously_unscoped = True  # the caller's own scanned logins only (scanned_by is the caller)


class QrLoginScanView(_Phone):
    @extend_schema(
        summary="The teacher's phone scanned a screen's code",
        description="Only a teacher (403 `not_teacher`); the first scanner owns the login (409 `qr_login_taken`); "
        "an expired, used or forged code: 409 `qr_login_expired` / `qr_login_used`, 400 `qr_login_invalid`.",
        request=ScanBody,
        responses={200: PhoneView, 400: ERRORS, 403: ERRORS, 409: ERRORS, 429: ERRORS},
    )
    def post(self, request: Request) -> Response:
        values = parsed(request, ScanBody)
        row = qr.qr_scan(actor=request.user, token=values["token"], now=clock.now())
        return Response(PhoneView(row).data)


class _Decide(_Phone):
    approve = True

    def post(self, request: Request, public_id: str) -> Response:
        row = ScreenLogin.objects.filter(public_id=public_id[:32], scanned_by_id=request.user.pk).first()
        if row is None:
            raise NotFound(_("Not found."))
        decide = qr.qr_confirm if self.approve else qr.qr_reject
        return Response(PhoneView(decide(actor=request.user, login=row, now=clock.now())).data)


@extend_schema_view(
    post=extend_schema(
        summary="The teacher who scanned the code confirms the screen's login",
        request=None,
        responses={200: PhoneView, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class QrLoginConfirmView(_Decide):
    approve = True


@extend_schema_view(
    post=extend_schema(
        summary="The teacher who scanned the code rejects the screen's login",
        request=None,
        responses={200: PhoneView, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class QrLoginRejectView(_Decide):
    approve = False


# Course outlines (课程设置) and the lesson a session taught.


class LessonOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    minutes = serializers.IntegerField()


class UnitOut(serializers.Serializer[Any]):
    name = serializers.CharField()
    lessons = LessonOut(many=True)


class OutlineOut(serializers.Serializer[Any]):
    item = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField(help_text="0 while the course has no outline")
    versions = serializers.ListField(child=serializers.IntegerField())
    note = serializers.CharField()
    minutes = serializers.IntegerField(help_text="all lessons' minutes")
    may_edit = serializers.BooleanField()
    units = UnitOut(many=True)


class LessonIn(StrictSerializer):
    name = serializers.CharField(max_length=60)
    minutes = serializers.IntegerField()


class UnitIn(StrictSerializer):
    name = serializers.CharField(max_length=60)
    lessons = LessonIn(many=True)


class OutlineBody(StrictSerializer):
    based_on_version = serializers.IntegerField(min_value=0, help_text="the version edited (0: the first)")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    units = serializers.JSONField(help_text='[{"name", "lessons": [{"name", "minutes"}]}]')


class SessionLessonBody(StrictSerializer):
    lesson = serializers.IntegerField(allow_null=True, help_text="a lesson of the class's course outline; null unlinks")


def outline_data(item: Any, actor: Any) -> dict[str, Any]:
    outline = outlines.current(item)
    units = list(outline.units.all()) if outline else []
    return {
        "item": item.pk,
        "name": item.name,
        "version": outline.version if outline else 0,
        "versions": list(item.outlines.order_by("-version").values_list("version", flat=True)),
        "note": outline.note if outline else "",
        "minutes": sum(lesson.minutes for unit in units for lesson in unit.lessons.all()),
        "may_edit": outlines.may_edit(actor, item),
        "units": [
            {"name": u.name, "lessons": [{"id": x.pk, "name": x.name, "minutes": x.minutes} for x in u.lessons.all()]}
            for u in units
        ],
    }


def refuse_screen(request: Request) -> None:
    if getattr(request._request, "session", {}).get(SESSION_FLAG):
        raise Forbidden(_("A classroom screen's session is for teaching only."), code=ErrorCode.TEACHING_ONLY)


class OutlineView(ScopedObjectView):
    """One library course's current outline; its owner saves a new version."""

    # library courses (catalog.CatalogItem, PUBLIC) and their outlines are read by everyone signed in; the
    # owner check for writing is the service's
    dangerously_unscoped = True

    def select(self, scope: Scope) -> QuerySet[Any]:
        return CatalogItem.objects.filter(kind="course").select_related("submission")

    @extend_schema(
        summary="A library course's current outline (课程设置): units and lessons with minutes",
        responses={200: OutlineOut, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(OutlineOut(outline_data(self.get_object(), request.user)).data)

    @extend_schema(
        summary="The course's owner saves a new version of its outline",
        description="`based_on_version` must be the latest (409 `outline_stale` otherwise: someone saved meanwhile). "
        "1–30 units of 1–40 lessons, names 1–60 characters, 5–240 minutes (400 `outline_invalid`); only the "
        "course's submitter (403 `not_course_owner`).",
        request=OutlineBody,
        responses={201: OutlineOut, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
    def put(self, request: Request, pk: int) -> Response:
        item = self.get_object()
        refuse_screen(request)
        values = self.parsed(OutlineBody)
        outlines.outline_save(
            actor=request.user,
            item=item,
            units=outlines.check_units(values["units"]),
            based_on=values["based_on_version"],
            note=values.get("note", ""),
            now=clock.now(),
        )
        return Response(OutlineOut(outline_data(item, request.user)).data, status=201)


@extend_schema_view(
    post=extend_schema(
        summary="The class's teacher (or the school) sets the lesson of the outline a session taught",
        request=SessionLessonBody,
        responses={200: SessionLessonBody, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND},
    )
)
class SessionLessonView(ActionView):
    body = SessionLessonBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return ClassSession.objects.select_related("course_class__entry")

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        refuse_screen(self.request)
        link = outlines.session_lesson_set(actor=actor, session=obj, lesson_id=values["lesson"], now=now)
        return {"lesson": link.lesson_id if link else None}


# Lesson preparation (备课) and teaching groups (教研组).


class StepOut(serializers.Serializer[Any]):
    text = serializers.CharField()
    minutes = serializers.IntegerField()


class SubmissionRef(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="submitted, in_review, returned, admitted, rejected, withdrawn")
    library = serializers.CharField(help_text="the library's region code (the city's or a district's)")
    version = serializers.IntegerField()


class PlanOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    author = serializers.SerializerMethodField()
    school = serializers.IntegerField(source="school_id")
    item = serializers.IntegerField(source="item_id", allow_null=True)
    goals = serializers.CharField()
    steps = StepOut(many=True)
    notes = serializers.CharField()
    sharing = serializers.ChoiceField(choices=LessonPlan.Sharing.choices)
    group = serializers.IntegerField(source="group_id", allow_null=True)
    version = serializers.IntegerField()
    origin = serializers.IntegerField(source="origin_id", allow_null=True)
    origin_version = serializers.IntegerField(allow_null=True)
    courseware = serializers.SerializerMethodField(help_text="ids of the attached courseware the caller may see")
    origin_item = serializers.IntegerField(
        source="origin_item_id", allow_null=True, help_text="copied from the library"
    )
    submission = serializers.SerializerMethodField(help_text="its submission to a library, if any")
    updated_at = serializers.DateTimeField()

    @extend_schema_field(SubmissionRef(allow_null=True))
    def get_submission(self, obj: LessonPlan) -> dict[str, Any] | None:
        sub = obj.submission
        if sub is None:
            return None
        return {"id": sub.pk, "status": sub.status, "library": sub.library_region.code, "version": sub.version_count}

    def get_courseware(self, obj: LessonPlan) -> list[int]:
        request = self.context.get("request")
        rows = obj.courseware.all()
        return sorted(c.pk for c in scope_for(request.user if request else None).filter(rows))

    def get_author(self, obj: LessonPlan) -> str:
        return str(obj.owner.full_name or obj.owner.username)


class PlanBody(StrictSerializer):
    title = serializers.CharField(max_length=80)
    goals = serializers.CharField(max_length=2000)
    steps = serializers.JSONField(help_text='[{"text", "minutes"}], 1–30 steps of 1–120 minutes')
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    sharing = serializers.ChoiceField(choices=LessonPlan.Sharing.choices, required=False)
    group = serializers.IntegerField(required=False, allow_null=True, help_text="sharing=group: one of your groups")
    school = serializers.IntegerField(required=False, help_text="creating: a school you teach at")
    item = serializers.IntegerField(required=False, allow_null=True, help_text="a library course")
    courseware = serializers.ListField(
        child=serializers.IntegerField(), required=False, max_length=20, help_text="courseware ids to attach"
    )


class GroupOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    school = serializers.IntegerField(source="school_id")
    name = serializers.CharField()
    members = serializers.SerializerMethodField()

    def get_members(self, obj: TeachingGroup) -> list[int]:
        return [m.pk for m in obj.members.all()]


class GroupBody(StrictSerializer):
    name = serializers.CharField(max_length=40)
    teachers = serializers.ListField(child=serializers.IntegerField(), help_text="teacher profile ids of the school")


def _plan_values(values: dict[str, Any]) -> dict[str, Any]:
    group = TeachingGroup.objects.filter(pk=values["group"]).first() if values.get("group") else None
    item = CatalogItem.objects.filter(pk=values["item"]).first() if values.get("item") else None
    return {
        "title": values["title"],
        "goals": values["goals"],
        "steps": values["steps"],
        "notes": values.get("notes", ""),
        "sharing": values.get("sharing", LessonPlan.Sharing.PRIVATE),
        "group": group,
        "item": item,
        "courseware": values.get("courseware"),
    }


@extend_schema_view(
    get=extend_schema(summary="Prepared lessons (备课) the caller may read: their own and those shared with them"),
    post=extend_schema(
        summary="A teacher prepares a lesson",
        request=PlanBody,
        responses={201: PlanOut, 400: ERRORS, 403: ERRORS},
    ),
)
class PlanListView(ScopedListAPIView):
    serializer_class = PlanOut

    def select(self, scope: Scope) -> QuerySet[Any]:
        return LessonPlan.objects.select_related("owner", "submission__library_region").order_by("-updated_at", "-pk")

    def post(self, request: Request) -> Response:
        refuse_screen(request)
        values = parsed(request, PlanBody)
        from kehou.orgs.models import School

        school = School.objects.filter(pk=values.get("school") or 0).first()
        plan = lessons.plan_save(actor=request.user, school=school, now=clock.now(), **_plan_values(values))
        return Response(PlanOut(plan, context={"request": request}).data, status=201)


class PlanDetailView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return LessonPlan.objects.select_related("owner", "school", "submission__library_region")

    @extend_schema(summary="A prepared lesson", responses={200: PlanOut, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        return Response(PlanOut(self.get_object(), context={"request": request}).data)

    @extend_schema(
        summary="Its author edits a prepared lesson (a new version)",
        request=PlanBody,
        responses={200: PlanOut, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND},
    )
    def put(self, request: Request, pk: int) -> Response:
        plan = self.get_object()
        refuse_screen(request)
        values = parsed(request, PlanBody)
        plan = lessons.plan_save(actor=request.user, plan=plan, now=clock.now(), **_plan_values(values))
        return Response(PlanOut(plan, context={"request": request}).data)


@extend_schema_view(
    post=extend_schema(
        summary="A teacher copies a lesson they may read: a private copy recording its origin and version",
        request=None,
        responses={201: PlanOut, 403: ERRORS, 404: NOT_FOUND},
    )
)
class PlanCopyView(ActionView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return LessonPlan.objects.all()

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        refuse_screen(self.request)
        copy = lessons.plan_copy(actor=actor, plan=obj, now=now)
        return Response(PlanOut(copy, context={"request": self.request}).data, status=201)


@extend_schema(summary="Teaching groups (教研组) the caller may see: their school's, or those they belong to")
class GroupListView(ScopedListAPIView):
    serializer_class = GroupOut

    def select(self, scope: Scope) -> QuerySet[Any]:
        return TeachingGroup.objects.prefetch_related("members")


@extend_schema_view(
    post=extend_schema(
        summary="A school's administrators form a teaching group of its teachers",
        request=GroupBody,
        responses={201: GroupOut, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND},
    )
)
class GroupCreateView(ActionView):
    body = GroupBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        from kehou.orgs.models import School

        return School.objects.all()

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        group = lessons.group_create(
            actor=actor, school=obj, name=values["name"], teacher_ids=values["teachers"], now=now
        )
        return Response(GroupOut(group).data, status=201)


# Courseware (课件) and presenting it.


class ConversionOut(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Rendition.Status.choices, help_text="queued, converting, ready, failed")
    pages = serializers.IntegerField()
    error_code = serializers.CharField(help_text="failed: conversion_timeout, conversion_failed, too_many_pages, …")
    seconds = serializers.FloatField(allow_null=True, help_text="how long the conversion took")


class CoursewareOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=Courseware.Kind.choices)
    author = serializers.SerializerMethodField()
    school = serializers.IntegerField(source="school_id")
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    sharing = serializers.ChoiceField(choices=LessonPlan.Sharing.choices)
    group = serializers.IntegerField(source="group_id", allow_null=True)
    external_links_removed = serializers.IntegerField(source="links_removed")
    conversion = serializers.SerializerMethodField(help_text="null for sound and video (shown as they are)")
    ready = serializers.SerializerMethodField(help_text="whether it can be presented")
    pages = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField(help_text="page images: replace {n} by 1…pages")
    file_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_author(self, obj: Courseware) -> str:
        return str(obj.owner.full_name or obj.owner.username)

    @extend_schema_field(ConversionOut(allow_null=True))
    def get_conversion(self, obj: Courseware) -> dict[str, Any] | None:
        r = obj.rendition
        if r is None:
            return None
        return {"status": r.status, "pages": r.pages, "error_code": r.error_code, "seconds": r.seconds}

    def get_ready(self, obj: Courseware) -> bool:
        return obj.rendition is None or obj.rendition.status == Rendition.Status.READY

    def get_pages(self, obj: Courseware) -> int:
        return cw.page_count(obj)

    def get_page_url(self, obj: Courseware) -> str:
        return f"/api/v1/teaching/courseware/{obj.pk}/pages/{{n}}" if obj.rendition_id else ""

    def get_file_url(self, obj: Courseware) -> str:
        return f"/api/v1/teaching/courseware/{obj.pk}/file"


def courseware_rows() -> QuerySet[Courseware]:
    return Courseware.objects.select_related("owner", "rendition")


UPLOAD_SCHEMA = {
    "multipart/form-data": {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary"},
            "title": {"type": "string", "maxLength": 80},
            "school": {"type": "integer", "description": "a school you teach at"},
            "sharing": {"type": "string", "enum": LessonPlan.Sharing.values},
            "group": {"type": "integer", "description": "sharing=group: one of your teaching groups"},
        },
        "required": ["file", "school"],
    }
}


class UploadForm(StrictSerializer):
    file = serializers.FileField(allow_empty_file=False)
    title = serializers.CharField(max_length=80, required=False, allow_blank=True)
    school = serializers.IntegerField()
    sharing = serializers.ChoiceField(choices=LessonPlan.Sharing.choices, required=False)
    group = serializers.IntegerField(required=False, allow_null=True)


def upload_courseware(request: Any, values: dict[str, Any]) -> Courseware:
    from kehou.orgs.models import School

    group = TeachingGroup.objects.filter(pk=values["group"]).first() if values.get("group") else None
    return cw.courseware_upload(
        actor=request.user,
        uploaded_file=values["file"],
        school=School.objects.filter(pk=values["school"]).first(),
        title=values.get("title", ""),
        sharing=values.get("sharing", LessonPlan.Sharing.PRIVATE),
        group=group,
        now=clock.now(),
    )


@extend_schema_view(
    get=extend_schema(summary="Courseware (课件) the caller may see: their own and what is shared with them"),
    post=extend_schema(
        summary="A teacher uploads courseware; documents, decks and images are converted to pages by the worker",
        description="PDF; PowerPoint or Word as .pptx / .docx (converted with LibreOffice, external links removed); "
        "PNG, JPEG, GIF, WebP; MP3, M4A, Ogg, WAV; MP4, WebM. The content decides the type, not the name "
        "(`invalid_file_type`); an unsound Office package (zip bomb, encrypted, macros) is `courseware_unsafe`; "
        "over the size limits, 413 `file_too_large`. Follow `conversion.status` on the courseware (queued → "
        "converting → ready | failed); the same content is converted once (cached by its SHA-256).",
        request=UPLOAD_SCHEMA,
        responses={201: CoursewareOut, 400: ERRORS, 403: ERRORS, 413: ERRORS},
    ),
)
class CoursewareListView(ScopedListAPIView):
    serializer_class = CoursewareOut
    parser_classes = [MultiPartParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if request.method == "POST":  # before authentication may read the body
            uploads.refuse_oversized(request._request, limit=cw.upload_limit())
        super().initial(request, *args, **kwargs)

    def select(self, scope: Scope) -> QuerySet[Any]:
        return courseware_rows()

    def post(self, request: Request) -> Response:
        refuse_screen(request)
        values = parsed(request, UploadForm)
        return Response(CoursewareOut(upload_courseware(request, values)).data, status=201)


class CoursewareDetailView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return courseware_rows()

    @extend_schema(summary="One courseware and its conversion's state", responses={200: CoursewareOut, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        return Response(CoursewareOut(self.get_object()).data)


class CoursewarePageView(ScopedObjectView):
    """A page of converted courseware, as the PNG the worker drew (never the uploaded file itself)."""

    content_negotiation_class = FileNegotiation

    def select(self, scope: Scope) -> QuerySet[Any]:
        return courseware_rows().filter(rendition__status=Rendition.Status.READY)

    @extend_schema(
        summary="A page of converted courseware (PNG)",
        responses={(200, "image/png"): OpenApiTypes.BINARY, 304: None, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int, n: int) -> Any:
        item = self.get_object()
        if not 1 <= n <= item.rendition.pages:
            raise NotFound(_("Not found."))
        # A page never changes (it is named by its content's hash), so the browser revalidates it cheaply; it is
        # never kept unchecked (a classroom's browser is shared, and sharing can be withdrawn).
        etag = f'"{item.rendition.sha256[:32]}-{n}"'
        if request.headers.get("If-None-Match") == etag:
            response: Any = HttpResponseNotModified()
        else:
            try:
                handle = default_storage.open(item.rendition.page_name(n), "rb")
            except OSError as exc:
                raise NotFound(_("Not found.")) from exc
            response = uploads.sandboxed(FileResponse(handle, content_type="image/png"))
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        response.kehou_shared_cache = True
        return response


class CoursewareFileView(ScopedObjectView):
    """The stored file: sound and video to play in the page (with the type its content was found to be), anything
    else as an attachment; sandboxed, so that nothing in it can run in the platform's origin."""

    content_negotiation_class = FileNegotiation

    def select(self, scope: Scope) -> QuerySet[Any]:
        return courseware_rows()

    @extend_schema(
        summary="The courseware's stored file (sound and video inline, documents as an attachment)",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 403: ERRORS, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        item = self.get_object()
        media = item.kind in (Courseware.Kind.AUDIO, Courseware.Kind.VIDEO)
        if not media:
            refuse_screen(request)  # a classroom screen shows pages; it does not take the files away
        try:
            handle = item.file.open("rb")
        except OSError as exc:
            raise NotFound(_("Not found.")) from exc
        response = FileResponse(
            handle, as_attachment=not media, filename=item.original_name, content_type=item.content_type
        )
        return uploads.sandboxed(response)  # (no-store, as every signed-in answer: the middleware's)


class PresentationOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    courseware = serializers.IntegerField()
    title = serializers.CharField()
    courseware_kind = serializers.CharField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    action = serializers.CharField()
    ended = serializers.BooleanField()


class PresentBody(StrictSerializer):
    courseware = serializers.IntegerField()
    screen_name = TextField(max_length=60, required=False, allow_blank=True)


class GoBody(StrictSerializer):
    action = serializers.ChoiceField(choices=[(a, a) for a in cw.ACTIONS])
    page = serializers.IntegerField(required=False, help_text="goto: the page, 1…pages")
    courseware = serializers.IntegerField(required=False, help_text="switch to other courseware (from page 1)")


def presentations_open() -> QuerySet[Presentation]:
    return Presentation.objects.filter(ended_at__isnull=True).select_related("courseware__rendition")


@extend_schema_view(
    get=extend_schema(summary="The caller's presentations still running (for the phone's remote)"),
    post=extend_schema(
        summary="A teacher presents courseware on a screen (the screen's session, or any of theirs)",
        description="The courseware must be ready (409 `courseware_not_ready`). Follow "
        "`GET /api/v1/events/?topic=presentation:<id>` for the page turns.",
        request=PresentBody,
        responses={201: PresentationOut, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    ),
)
class PresentationListView(ScopedListAPIView):
    serializer_class = PresentationOut

    def select(self, scope: Scope) -> QuerySet[Any]:
        return presentations_open()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(rows)
        data = [cw.state(show) for show in (page if page is not None else rows)]
        return self.get_paginated_response(data) if page is not None else Response(data)

    def post(self, request: Request) -> Response:
        values = parsed(request, PresentBody)
        item = scope_for(request.user).filter(courseware_rows()).filter(pk=values["courseware"]).first()
        if item is None:
            raise NotFound(_("Not found."))
        name = values.get("screen_name") or request.session.get(SCREEN_NAME_KEY, "")
        show = cw.presentation_start(actor=request.user, courseware=item, screen_name=name, now=clock.now())
        return Response(cw.state(show), status=201)


class PresentationDetailView(ScopedObjectView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Presentation.objects.select_related("courseware__rendition")

    @extend_schema(
        summary="A presentation's state: its courseware and page", responses={200: PresentationOut, 404: NOT_FOUND}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(cw.state(self.get_object()))


@extend_schema_view(
    post=extend_schema(
        summary="The remote: next, prev, first, last, goto a page, play / pause, switch courseware, or end",
        description="Its teacher only (anyone else: 404). The new state is sent to the screen and the phone on "
        "topic `presentation:<id>`. A page outside 1…pages is 400 `invalid`; an ended one 409 `presentation_ended`.",
        request=GoBody,
        responses={200: PresentationOut, 400: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class PresentationGoView(ActionView):
    body = GoBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Presentation.objects.select_related("courseware__rendition")

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        other = None
        if values.get("courseware") is not None:
            other = scope_for(actor).filter(courseware_rows()).filter(pk=values["courseware"]).first()
            if other is None:
                raise NotFound(_("Not found."))
        show = cw.presentation_go(
            actor=actor, show=obj, action=values["action"], page=values.get("page"), courseware=other, now=now
        )
        return cw.state(show, action=values["action"])


# The fourth sharing level: a district or city library.


class PlanSubmitBody(StrictSerializer):
    library = serializers.ChoiceField(choices=LIBRARY_CHOICES)
    category = serializers.IntegerField(help_text="a library category's id (GET /api/v1/categories/)")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, help_text="revising: what changed")


@extend_schema_view(
    post=extend_schema(
        summary="Its author submits a prepared lesson to the district's or the city's library (reviewed like courses)",
        description="A panel of experts reviews it as a course; admitted, every teacher may copy it "
        "(`GET /api/v1/teaching/library-lessons/`). Submitting a returned lesson again revises the submission with "
        "the lesson as it is now; under review or admitted: 409 `lesson_in_review`.",
        request=PlanSubmitBody,
        responses={200: PlanOut, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class PlanSubmitView(ActionView):
    body = PlanSubmitBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return LessonPlan.objects.select_related("school__district", "submission")

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        from kehou.catalog.models import Category

        refuse_screen(self.request)
        plan = lessons.plan_submit(
            actor=actor,
            plan=obj,
            library=values["library"],
            category=Category.objects.filter(pk=values["category"]).first(),
            note=values.get("note", ""),
            now=now,
        )
        return Response(PlanOut(plan, context={"request": self.request}).data)


class LibraryLessonOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="the library item")
    title = serializers.CharField(source="name")
    category = serializers.CharField(source="category.name")
    school = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()
    goals = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()
    admitted_at = serializers.DateTimeField()

    def get_school(self, obj: CatalogItem) -> str:
        return obj.provider_school.name if obj.provider_school else ""

    def get_author(self, obj: CatalogItem) -> str:
        user = obj.submission.submitter_user
        return str(user.full_name or user.username)

    def get_goals(self, obj: CatalogItem) -> str:
        return str((obj.version.content or {}).get("goals", ""))

    @extend_schema_field(StepOut(many=True))
    def get_steps(self, obj: CatalogItem) -> list[dict[str, Any]]:
        return list((obj.version.content or {}).get("steps") or [])

    def get_notes(self, obj: CatalogItem) -> str:
        return str((obj.version.content or {}).get("notes", ""))


@extend_schema(summary="Prepared lessons admitted into a district or city library, for every teacher to copy")
class LibraryLessonListView(ScopedListAPIView):
    serializer_class = LibraryLessonOut

    def select(self, scope: Scope) -> QuerySet[Any]:
        return lessons.library_lessons()


@extend_schema_view(
    post=extend_schema(
        summary="A teacher copies a library lesson: a private copy recording the item and the lesson it came from",
        request=None,
        responses={201: PlanOut, 403: ERRORS, 404: NOT_FOUND},
    )
)
class LibraryLessonCopyView(ActionView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return lessons.library_lessons()

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        refuse_screen(self.request)
        copy = lessons.plan_copy_from_library(actor=actor, item=obj, now=now)
        return Response(PlanOut(copy, context={"request": self.request}).data, status=201)
