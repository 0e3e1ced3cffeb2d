"""The shop site's pages: log in, my orders, the hand-off."""
from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.orders, name="orders"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"),
         name="logout"),
    path("export/<str:fmt>/", views.export, name="export"),
    path("export-all/<str:fmt>/", views.export_all, name="export_all"),
    path("ping/", views.ping, name="ping"),
]
