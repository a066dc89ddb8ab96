"""accounts console pages (under /accounts/). The top-level `login` name lives in console/urls."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("keys/", views.key_list, name="key-list"),
    path("keys/<int:key_id>/", views.key_detail, name="key-detail"),
    path("keys/<int:key_id>/rotate/", views.key_rotate, name="key-rotate"),
    path("keys/<int:key_id>/revoke/", views.key_revoke, name="key-revoke"),
    path("roles/limits/", views.role_limits, name="role-limits"),
    path("audit/", views.audit, name="audit"),
]
