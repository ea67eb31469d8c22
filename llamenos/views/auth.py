from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from ..access import public


@method_decorator(never_cache, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


login = public("the login page")(LoginView.as_view())
# Logout is POST-only (Django 5); anyone may post it, it only ends their own session.
logout = public("ending one's own session")(auth_views.LogoutView.as_view())
