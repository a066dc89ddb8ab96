"""accounts console pages: log in, API keys, the audit log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.constants import AUDIT_LIST_PAGE_SIZE, Role, Scope
from accounts.forms import (
    AuditFilterForm,
    KeyCreateForm,
    KeyLimitsForm,
    KeyRotateForm,
    RoleLimitsForm,
)
from accounts.login_limits import LoginAttempt, login_username, remember_device
from accounts.permissions import role_required, user_role
from accounts.reveal import secret_stash, secret_take
from accounts.usage import usage_today_many
from core.audit import audit_list
from core.charts import budget_figure, daily_usage_figure
from core.errors import ServiceError


class LoginView(auth_views.LoginView):
    """Django's login page, in Modelgate's layout; POSTs limited (accounts.login_limits)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        self.attempt = LoginAttempt(request)
        refused = self.attempt.refused
        if refused is not None:
            # An unbound form: the password is not even checked while the limit holds.
            form = self.get_form_class()(request, initial={"username": login_username(request)})
            wait = refused.retry_after()
            context = self.get_context_data(
                form=form,
                limited=f"Too many login attempts. Try again in {wait} seconds.",
            )
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = wait
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        self.attempt.succeeded()
        remember_device(response, form.get_user().get_username())
        return response


LogoutView = auth_views.LogoutView  # POST only, as Django 5 requires


def _revealed(request, key_id: int | None = None) -> dict | None:
    """The secret created or rotated by the POST that redirected here, once."""
    stashed = secret_take(request, key_id=key_id)
    if stashed is None:
        return None
    try:
        key = selectors.api_key_get(user=request.user, key_id=stashed["key_id"])
    except ServiceError:
        return None
    return {"key": key, "raw": stashed["raw"]}


def _no_store(response, new_key):
    if new_key is not None:
        response["Cache-Control"] = "no-store"  # the back button must not show the secret again
    return response


def _key_page(request, form, *, new_key=None, status=200):
    is_admin = user_role(request.user) == Role.ADMIN
    keys = list(selectors.api_key_list(user=request.user, include_all=is_admin))
    today = usage_today_many([key.prefix for key in keys])
    for key in keys:
        key.requests_today = today.get(key.prefix, 0)
    context = {
        "form": form,
        "keys": keys,
        "show_owner": is_admin,
        "new_key": new_key,
        "is_admin": is_admin,
    }
    return _no_store(render(request, "accounts/key_list.html", context, status=status), new_key)


@role_required(Scope.READ)
@require_http_methods(["GET", "POST"])
def key_list(request):
    """List keys (admins: everyone's) and create one; a new key is shown once, after the
    redirect that follows its creation."""
    role = user_role(request.user)
    if request.method == "GET":
        return _key_page(request, KeyCreateForm(role=role), new_key=_revealed(request))
    form = KeyCreateForm(request.POST, role=role)
    if not form.is_valid():
        return _key_page(request, form, status=400)
    try:
        key, raw = services.api_key_create(
            user=request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["all_scopes"],
            expires_at=form.cleaned_data["expires_at"],
            rate_limit=form.cleaned_data["rate_limit"],
            burst_limit=form.cleaned_data["burst_limit"],
            quota=form.cleaned_data["quota"],
            actor=request.actor,
        )
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return _key_page(request, form, status=exc.status)
    # POST-redirect-GET: a reload shows the list, never creates a second key (accounts.reveal).
    secret_stash(request, key_id=key.pk, raw=raw)
    return redirect("accounts:key-list")


@role_required(Scope.READ)
@require_POST
def key_revoke(request, key_id: int):
    """Revoke a key; another user's key is a 404 unless you are an admin."""
    key = selectors.api_key_get(user=request.user, key_id=key_id)
    try:
        services.api_key_revoke(key=key, actor=request.actor)
    except ServiceError as exc:
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


def _detail_page(request, key, *, limits_form=None, new_key=None, status=200):
    usage = selectors.api_key_usage(key=key)
    context = {
        "key": key,
        "usage": usage,
        "limits_form": limits_form
        or KeyLimitsForm(
            initial={
                "name": key.name,
                "rate_limit": key.rate_limit,
                "burst_limit": key.burst_limit,
                "quota": key.quota,
            }
        ),
        "rotate_form": KeyRotateForm(),
        "new_key": new_key,
        "daily_figure": daily_usage_figure(usage["days"], usage["quota"]),
        "budget_figure": budget_figure(usage["window"], usage["quota"]),
    }
    return _no_store(render(request, "accounts/key_detail.html", context, status=status), new_key)


@role_required(Scope.READ)
@require_http_methods(["GET", "POST"])
def key_detail(request, key_id: int):
    """One key: its limits and usage charts; POST changes its name and limits."""
    key = selectors.api_key_get(user=request.user, key_id=key_id)
    if request.method == "GET":
        return _detail_page(request, key, new_key=_revealed(request, key.pk))
    form = KeyLimitsForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, key, limits_form=form, status=400)
    try:
        key = services.api_key_update(key=key, actor=request.actor, **form.cleaned_data)
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return _detail_page(request, key, limits_form=form, status=exc.status)
    messages.success(request, f"Key '{key.name}' ({key.prefix}) updated.")
    return redirect("accounts:key-detail", key_id=key.pk)


@role_required(Scope.READ)
@require_POST
def key_rotate(request, key_id: int):
    """Issue a new secret, shown once on the key page after the redirect; the old one stays
    valid for the overlap."""
    key = selectors.api_key_get(user=request.user, key_id=key_id)
    form = KeyRotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick how long the old secret keeps working (0 to 7 days).")
        return redirect("accounts:key-detail", key_id=key.pk)
    try:
        key, raw = services.api_key_rotate(
            key=key,
            actor=request.actor,
            overlap_hours=form.cleaned_data["overlap_hours"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:key-detail", key_id=key.pk)
    # POST-redirect-GET: reloading the page that shows the new secret rotates nothing.
    secret_stash(request, key_id=key.pk, raw=raw)
    return redirect("accounts:key-detail", key_id=key.pk)


@role_required(Scope.ADMIN)
@require_http_methods(["GET", "POST"])
def role_limits(request):
    """Admins: the most each role's keys may be allowed (rate, burst, quota)."""
    status = 200
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = RoleLimitsForm(request.POST)
        if form.is_valid():
            try:
                services.role_limits_set(actor=request.actor, **form.cleaned_data)
            except ServiceError as exc:
                errors[form.cleaned_data["role"]] = exc.message
                status = exc.status
            else:
                messages.success(request, f"Ceilings for {form.cleaned_data['role']} saved.")
                return redirect("accounts:role-limits")
        else:
            status = 400
            errors[request.POST.get("role", "")] = "Pick a role."
    rows = [
        (role, RoleLimitsForm(initial={"role": role, **ceilings.__dict__}), errors.get(role))
        for role, ceilings in selectors.role_ceilings_all()
    ]
    return render(request, "accounts/role_limits.html", {"rows": rows}, status=status)
