"""Drift column kinds of a dataset: a console page and an API, over registry/column_kinds.py."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ReadAndDeploy, role_required
from core.errors import ServiceError
from registry import column_kinds, selectors

FIELD_PREFIX = "kind:"


@role_required("read")
@require_http_methods(["GET", "POST"])
def dataset_columns(request, dataset_id: int):
    dataset = selectors.dataset_get(dataset_id)
    can_edit = request.actor.can("deploy")
    if request.method == "POST":
        request.actor.require("deploy", what="declare column kinds")
        kinds = {
            key.removeprefix(FIELD_PREFIX): value
            for key, value in request.POST.items()
            if key.startswith(FIELD_PREFIX)
        }
        try:
            column_kinds.dataset_set_column_kinds(dataset=dataset, kinds=kinds, actor=request.actor)
            messages.success(request, f"Column kinds of {dataset} saved; drift runs use them.")
            return redirect("registry:dataset-columns", dataset.pk)
        except ServiceError as exc:
            messages.error(request, f"Not saved: {exc.message}")
    context = {
        "dataset": dataset,
        "columns": column_kinds.dataset_columns(dataset),
        "can_edit": can_edit,
        "prefix": FIELD_PREFIX,
    }
    return render(request, "registry/dataset_columns.html", context)


class ColumnOut(serializers.Serializer):
    name = serializers.CharField()
    dtype = serializers.CharField()
    inferred = serializers.CharField(help_text="what Evidently infers from the reference")
    declared = serializers.CharField(help_text='"" when not declared')
    kind = serializers.CharField(help_text="what drift applies: declared, else inferred")


class DatasetColumnsApi(APIView):
    permission_classes = [ReadAndDeploy]

    class KindsIn(serializers.Serializer):
        column_kinds = serializers.DictField(
            child=serializers.ChoiceField(choices=[*column_kinds.KINDS, column_kinds.INFERRED])
        )

    @extend_schema(responses=ColumnOut(many=True), summary="A dataset's columns and drift kinds")
    def get(self, request, dataset_id: int):
        dataset = selectors.dataset_get(dataset_id)
        return Response(ColumnOut(column_kinds.dataset_columns(dataset), many=True).data)

    @extend_schema(
        request=KindsIn,
        responses=ColumnOut(many=True),
        summary="Declare columns numeric or categorical for drift (auto: back to inferred)",
    )
    def patch(self, request, dataset_id: int):
        data = self.KindsIn(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = column_kinds.dataset_set_column_kinds(
            dataset=selectors.dataset_get(dataset_id),
            kinds=dict(data.validated_data["column_kinds"]),
            actor=request.actor,
        )
        return Response(ColumnOut(column_kinds.dataset_columns(dataset), many=True).data)
