from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views.login_view, name="login"),
    path("login/code/", views.otp_request_view, name="otp-request"),
    path("login/code/verify/", views.otp_verify_view, name="otp-verify"),
    path("logout/", views.logout_view, name="logout"),
    path("units/", views.unit_browser, name="units"),
    path("units/<str:code>/children/", views.unit_children, name="unit-children"),
    path("departments/", views.department_list_view, name="departments"),
    path("cadres/", views.cadre_list_view, name="cadres"),
    path("residents/", views.resident_list_view, name="residents"),
    path("organizations/", views.organization_list_view, name="organizations"),
    path("account/tokens/", views.token_list_view, name="tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.token_revoke_view, name="token-revoke"),
    path("account/password/", views.password_view, name="password"),
    path("audit/", views.audit_view, name="audit"),
]
