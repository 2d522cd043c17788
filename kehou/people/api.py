from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehou.core import clock
from kehou.core.api import ScopedReadOnlyViewSet, query_int
from kehou.core.masking import mask_phone
from kehou.core.scope import Scope

from . import selectors, services
from .api_auth import BearerTokenAuthentication
from .models import ApiToken
from .serializers import (
    MeSerializer,
    StudentSerializer,
    TeacherSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
)


class TokenView(APIView):
    """Exchange a username (or phone) and password for a bearer token; DELETE revokes the token in use."""

    dangerously_unscoped = True  # reads no scoped rows: it authenticates the caller
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [permissions.AllowAny]

    def perform_authentication(self, request: Request) -> None:
        # Obtaining a token does not depend on who is calling: a stale token left in the client's header must not
        # block getting a new one. DELETE authenticates (lazily, when it reads request.user).
        pass

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            201: TokenResponseSerializer,
            400: OpenApiResponse(description="`invalid`, `unknown_field`: the body is not `{username, password}`"),
            401: OpenApiResponse(
                description="`invalid_credentials`: wrong username or password, an unknown user or a locked login "
                "(the same answer); `account_disabled`"
            ),
            429: OpenApiResponse(description="`throttled`: too many logins from this address, or overall"),
        },
        auth=[],
        summary="Obtain a bearer token",
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        now = clock.now()
        user = services.login_with_password(
            identifier=data.validated_data["username"], password=data.validated_data["password"], now=now
        )
        issued = services.token_issue(user=user, now=now)
        expires_at = timezone.localtime(issued.token.expires_at)  # the platform answers in Asia/Shanghai
        return Response({"token": issued.raw, "expires_at": expires_at}, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={204: None},
        # AllowAny lets POST in without a token; DELETE needs the one it revokes (a security requirement, whatever
        # the annotation of `auth` says)
        auth=[{"bearerAuth": []}],  # type: ignore[list-item]
        summary="Revoke the bearer token in use",
    )
    def delete(self, request: Request) -> Response:
        if not request.user.is_authenticated or not isinstance(request.auth, ApiToken):
            from rest_framework.exceptions import NotAuthenticated

            raise NotAuthenticated()
        services.token_revoke(actor=request.user, token=request.auth, now=clock.now())  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """Who the caller is and which roles they hold."""

    dangerously_unscoped = True  # reads only the caller's own account

    @extend_schema(responses=MeSerializer, summary="The caller's account and roles")
    def get(self, request: Request) -> Response:
        user = request.user
        roles = [
            {
                "role": ra.role,
                "district_code": ra.district.code if ra.district else None,
                "school_code": ra.school.code if ra.school else None,
                "operator": ra.operator.name if ra.operator else None,
            }
            for ra in user.role_assignments.select_related("district", "school", "operator")  # type: ignore[union-attr]
        ]
        return Response(
            {
                "id": user.pk,
                "username": user.get_username(),
                "full_name": getattr(user, "full_name", ""),
                "phone": mask_phone(getattr(user, "phone", "")),
                "roles": roles,
            }
        )


@extend_schema_view(
    list=extend_schema(
        summary="Pupils in the caller's scope",
        parameters=[
            OpenApiParameter("search", str, description="name contains, or exact student number"),
            OpenApiParameter("school", int),
            OpenApiParameter("district", str),
            OpenApiParameter("grade", int),
            OpenApiParameter("class_name", str),
        ],
    )
)
class StudentViewSet(ScopedReadOnlyViewSet):
    serializer_class = StudentSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return selectors.pupil_list(
            scope=scope,
            search=p.get("search", "").strip(),
            school_id=query_int(self.request, "school"),
            district_code=p.get("district", "").strip(),
            grade=query_int(self.request, "grade"),
            class_name=p.get("class_name", "").strip(),
        )


@extend_schema_view(
    list=extend_schema(
        summary="Teachers in the caller's scope",
        parameters=[
            OpenApiParameter("search", str, description="name or subject contains"),
            OpenApiParameter("kind", str, enum=["staff", "outside"]),
        ],
    )
)
class TeacherViewSet(ScopedReadOnlyViewSet):
    serializer_class = TeacherSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return selectors.teacher_list(scope=scope, search=p.get("search", "").strip(), kind=p.get("kind", ""))
