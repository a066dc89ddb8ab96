"""accounts console pages: log in, API keys, the audit log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.audit import audit_list
from accounts.constants import AUDIT_LIST_PAGE_SIZE, Role, Scope
from accounts.errors import ServiceError
from accounts.forms import AuditFilterForm, KeyCreateForm
from accounts.permissions import request_ip, role_required, user_role


class LoginView(auth_views.LoginView):
    """Django's login page, in Modelgate's layout."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True


LogoutView = auth_views.LogoutView  # POST only, as Django 5 requires


def _key_page(request, form, *, new_key=None, status=200):
    is_admin = user_role(request.user) == Role.ADMIN
    context = {
        "form": form,
        "keys": selectors.api_key_list(user=request.user, include_all=is_admin),
        "show_owner": is_admin,
        "new_key": new_key,
    }
    return render(request, "accounts/key_list.html", context, status=status)


@role_required(Scope.READ)
@require_http_methods(["GET", "POST"])
def key_list(request):
    """List keys (admins: everyone's) and create one; a new key is shown once, on this response."""
    role = user_role(request.user)
    if request.method == "GET":
        return _key_page(request, KeyCreateForm(role=role))
    form = KeyCreateForm(request.POST, role=role)
    if not form.is_valid():
        return _key_page(request, form, status=400)
    try:
        key, raw = services.api_key_create(
            user=request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["all_scopes"],
            expires_at=form.cleaned_data["expires_at"],
            actor=request.user,
            ip=request_ip(request),
        )
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return _key_page(request, form, status=exc.status)
    # Rendered, not redirected: the raw key must never sit in a session or a URL.
    return _key_page(request, KeyCreateForm(role=role), new_key={"key": key, "raw": raw})


@role_required(Scope.READ)
@require_POST
def key_revoke(request, key_id: int):
    """Revoke a key; another user's key is a 404 unless you are an admin."""
    try:
        key = selectors.api_key_get(user=request.user, key_id=key_id)
        services.api_key_revoke(key=key, actor=request.user, ip=request_ip(request))
    except ServiceError as exc:
        if exc.status == 404:
            return render(request, "accounts/not_found.html", {"message": exc.message}, status=404)
        messages.error(request, exc.message)
        return redirect("accounts:key-list")
    messages.success(request, f"Key '{key.name}' ({key.prefix}) revoked.")
    return redirect("accounts:key-list")


# Viewers may read the audit log: it holds no secrets and every role needs to see who changed what.
@role_required(Scope.READ)
def audit(request):
    """The audit log with filters on actor, action, target and dates; 50 a page."""
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        entries = audit_list().none()
        status = 400
    else:
        entries = audit_list(**form.selector_kwargs()) if form.is_bound else audit_list()
        status = 200
    page = Paginator(entries, AUDIT_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "accounts/audit.html", context, status=status)
