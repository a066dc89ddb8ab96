"""accounts REST API: API keys, the caller's identity, the audit log."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.constants import AUDIT_LIST_PAGE_SIZE
from accounts.permissions import CanManageKeys, CanRead
from accounts.usage import usage_today, usage_today_many
from core.audit import audit_list
from core.errors import InvalidInput
from core.schema import error_responses


class KeyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    owner = serializers.CharField(source="owner.username")
    scopes = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=["active", "expired", "revoked"])
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    rate_limit = serializers.CharField(help_text="e.g. 100/m; empty: the role's ceiling.")
    burst_limit = serializers.CharField(help_text="A short-window rate, e.g. 20/s.")
    quota = serializers.CharField(help_text="Requests per day (10000/d) or month (300000/mo).")
    rotated_at = serializers.DateTimeField(allow_null=True)
    previous_valid_until = serializers.DateTimeField(
        allow_null=True, help_text="After a rotation: when the old secret stops working."
    )
    requests_today = serializers.SerializerMethodField()

    def get_requests_today(self, key) -> int:
        usage = self.context.get("usage")
        return usage.get(key.prefix, 0) if usage is not None else usage_today(key.prefix)


# A response that carries a secret is never stored by a browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}


def _key_body(api_key, /, **extra) -> dict:
    return {**KeyOutputSerializer(api_key).data, **extra}


class LimitsSerializer(serializers.Serializer):
    rate_limit = serializers.CharField(max_length=20, required=False, allow_blank=True)
    burst_limit = serializers.CharField(max_length=20, required=False, allow_blank=True)
    quota = serializers.CharField(max_length=20, required=False, allow_blank=True)


class KeyCreatedSerializer(KeyOutputSerializer):
    key = serializers.CharField(help_text="The full API key. It is shown only in this response.")


class KeyListCreateApi(APIView):
    """List and create API keys."""

    permission_classes = [CanManageKeys]

    @extend_schema(
        operation_id="keys_list",
        parameters=[
            OpenApiParameter("all", OpenApiTypes.BOOL, description="Admins: every user's keys.")
        ],
        responses={200: KeyOutputSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        include_all = request.query_params.get("all") in ("1", "true", "yes")
        keys = list(selectors.api_key_list(user=request.user, include_all=include_all))
        usage = usage_today_many([key.prefix for key in keys])
        return Response(KeyOutputSerializer(keys, many=True, context={"usage": usage}).data)

    class InputSerializer(LimitsSerializer):
        name = serializers.CharField(max_length=100)
        scopes = serializers.ListField(
            child=serializers.CharField(max_length=110), min_length=1, max_length=100
        )
        expires_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(
        operation_id="keys_create",
        request=InputSerializer,
        responses={201: KeyCreatedSerializer, **error_responses(400, 401, 403)},
        description="Create a key for yourself. Scopes may not exceed your role. Through a key, "
        "the call needs the `keys` scope, and the new key may hold no scope the calling key "
        "lacks nor outlive it (it expires with the calling key unless told to expire sooner).",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = services.api_key_create(
            user=request.user, actor=request.actor, **data.validated_data
        )
        return Response(_key_body(key, key=raw), status=status.HTTP_201_CREATED, headers=NO_STORE)


class KeyDetailApi(APIView):
    """One key (yours; admins: anyone's), and changes to its name and limits."""

    permission_classes = [CanManageKeys]

    @extend_schema(
        operation_id="keys_retrieve",
        responses={200: KeyOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, key_id: int):
        return Response(_key_body(selectors.api_key_get(user=request.user, key_id=key_id)))

    class InputSerializer(LimitsSerializer):
        name = serializers.CharField(max_length=100, required=False)

    @extend_schema(
        operation_id="keys_update",
        request=InputSerializer,
        responses={200: KeyOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="Change a key's name or limits. Owners stay within their role's ceilings; "
        "admins may set any limit on any key. An empty string removes a limit.",
    )
    def patch(self, request, key_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data:
            raise InvalidInput("Give at least one of name, rate_limit, burst_limit, quota.")
        key = selectors.api_key_get(user=request.user, key_id=key_id)
        key = services.api_key_update(
            key=key,
            actor=request.actor,
            **data.validated_data,
        )
        return Response(_key_body(key))


class KeyRotateApi(APIView):
    """Issue a new secret for a key; the old one keeps working for the overlap, then stops."""

    permission_classes = [CanManageKeys]

    @extend_schema_serializer(component_name="KeyRotateInput")
    class InputSerializer(serializers.Serializer):
        overlap_hours = serializers.FloatField(
            required=False,
            min_value=0,
            max_value=services.MAX_ROTATION_OVERLAP_HOURS,
            default=services.DEFAULT_ROTATION_OVERLAP_HOURS,
            help_text="How long the old secret stays valid: 0 to 168 hours, default 24.",
        )

    @extend_schema(
        operation_id="keys_rotate",
        request=InputSerializer,
        responses={200: KeyCreatedSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, key_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = selectors.api_key_get(user=request.user, key_id=key_id)
        key, raw = services.api_key_rotate(
            key=key,
            actor=request.actor,
            overlap_hours=data.validated_data["overlap_hours"],
        )
        return Response(_key_body(key, key=raw), headers=NO_STORE)


class KeyRevokeApi(APIView):
    """Revoke one of your keys (admins: anyone's)."""

    permission_classes = [CanManageKeys]

    @extend_schema(
        operation_id="keys_revoke",
        request=None,
        responses={200: KeyOutputSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request, key_id: int):
        key = selectors.api_key_get(user=request.user, key_id=key_id)
        key = services.api_key_revoke(key=key, actor=request.actor)
        return Response(_key_body(key))


class MeApi(APIView):
    """Who the caller is: username, role and, for a key, its scopes."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me",
        responses={
            200: inline_serializer(
                "Me",
                {
                    "username": serializers.CharField(),
                    "role": serializers.CharField(),
                    "key_prefix": serializers.CharField(allow_null=True),
                    "scopes": serializers.ListField(child=serializers.CharField(), allow_null=True),
                },
            ),
            **error_responses(401),
        },
    )
    def get(self, request):
        actor = request.actor
        principal = actor.key
        return Response(
            {
                "username": request.user.get_username(),
                "role": actor.role,
                "key_prefix": principal.prefix if principal else None,
                "scopes": sorted(principal.scopes) if principal else None,
            }
        )


class AuditPagination(PageNumberPagination):
    page_size = AUDIT_LIST_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 500


class AuditOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    action = serializers.CharField()
    target = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    ip = serializers.IPAddressField(allow_null=True)


class AuditListApi(generics.ListAPIView):
    """The audit log, newest first; anyone with read may see it."""

    permission_classes = [CanRead]
    serializer_class = AuditOutputSerializer
    pagination_class = AuditPagination

    class FilterSerializer(serializers.Serializer):
        actor = serializers.CharField(required=False, help_text="Username or key:<prefix>.")
        action = serializers.CharField(required=False, help_text="Exact, or a prefix: api_key.")
        target = serializers.CharField(required=False, help_text="Substring of the target.")
        since = serializers.DateTimeField(required=False, help_text="Inclusive.")
        until = serializers.DateTimeField(required=False, help_text="Exclusive.")

    @extend_schema(
        operation_id="audit_list",
        parameters=[FilterSerializer],
        responses={200: AuditOutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = self.FilterSerializer(data=self.request.query_params)
        if not filters.is_valid():
            raise InvalidInput(
                "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in filters.errors.items())
            )
        data = filters.validated_data
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise InvalidInput("since: Must be before until.")
        return audit_list(
            actor=data.get("actor"),
            action=data.get("action"),
            target_contains=data.get("target"),
            since=data.get("since"),
            until=data.get("until"),
        )
