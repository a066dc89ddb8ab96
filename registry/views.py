"""registry console pages: models, versions, registration, environments, datasets."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts.permissions import role_required
from core.errors import ServiceError
from registry import selectors, services
from registry.forms import DatasetForm, EnvironmentForm, VersionUploadForm

# A composing app may provide the first template (extending the second) to fill
# `{% block actions %}` with its controls, without registry importing it.
VERSION_DETAIL_TEMPLATES = ["console/version_detail.html", "registry/version_detail.html"]
# Its 10-second refresh (an htmx request to the same URL): the console's copy swaps where the
# version serves; without a composing app nothing polls, and such a request gets the page.
VERSION_LIVE_TEMPLATES = ["console/_version_live.html", *VERSION_DETAIL_TEMPLATES]
# The console's copy adds what each version serves (serving sits above registry).
MODEL_LIST_TEMPLATES = ["console/model_list.html", "registry/model_list.html"]


def _can_deploy(request) -> bool:
    return request.actor.can("deploy")


@role_required("read")
def model_list(request):
    context = {"models": selectors.model_list_with_latest(), "can_register": _can_deploy(request)}
    return render(request, MODEL_LIST_TEMPLATES, context)


@role_required("read")
def model_detail(request, name: str):
    model = selectors.model_get(name)
    context = {"model": model, "versions": selectors.version_list(model)}
    return render(request, "registry/model_detail.html", context)


@role_required("read")
@vary_on_headers("HX-Request")  # the same URL answers the page or its refreshed part
def version_detail(request, name: str, number: int):
    version = selectors.version_get(name, number)
    templates = VERSION_LIVE_TEMPLATES if request.htmx else VERSION_DETAIL_TEMPLATES
    return render(request, templates, {"version": version, "model": version.model})


@role_required("deploy")
@require_http_methods(["GET", "POST"])
def version_upload(request):
    form = VersionUploadForm(request.POST or None, request.FILES or None)
    if not request.actor.can("admin"):  # the service refuses them anyway
        del form.fields["approve_host_ops"], form.fields["approval_reason"]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data.pop("artifact")
        try:
            version = services.version_register(
                upload=upload,
                filename=upload.name,
                actor=request.actor,
                **data,
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Registered {version} ({version.artifact.sha256[:12]}).")
            return redirect("registry:version-detail", version.model.name, version.number)
    status = 400 if request.method == "POST" else 200
    return render(request, "registry/version_upload.html", {"form": form}, status=status)


def _list_with_form(request, *, form, create, template, context):
    """GET: the list and (for deployers) an empty form. POST: create, then back to the list."""
    can_create = _can_deploy(request)
    if request.method == "POST":
        if not can_create:
            return render(request, "accounts/forbidden.html", {"scope": "deploy"}, status=403)
        if form.is_valid():
            try:
                created = create(form.cleaned_data)
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Created {created}.")
                return redirect(request.path)
    status = 400 if request.method == "POST" else 200
    context = {**context, "form": form if can_create else None}
    return render(request, template, context, status=status)


@role_required("read")
@require_http_methods(["GET", "POST"])
def environment_list(request):
    def create(data):
        return services.environment_create(actor=request.actor, **data)

    return _list_with_form(
        request,
        form=EnvironmentForm(request.POST or None),
        create=create,
        template="registry/environment_list.html",
        context={"environments": selectors.environment_list()},
    )


@role_required("read")
@require_http_methods(["GET", "POST"])
def dataset_list(request):
    def create(data):
        upload = data["file"]
        return services.dataset_create(
            name=data["name"] or upload.name,
            upload=upload,
            filename=upload.name,
            label_column=data["label_column"] or None,
            actor=request.actor,
        )

    return _list_with_form(
        request,
        form=DatasetForm(request.POST or None, request.FILES or None),
        create=create,
        template="registry/dataset_list.html",
        context={"datasets": selectors.dataset_list()},
    )
