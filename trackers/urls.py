from django.urls import path

from trackers import api, views

app_name = "trackers"

urlpatterns = [
    path("items/<int:pk>/", views.item_tracker, name="item_tracker"),
]

api_urlpatterns = [
    path(
        "webhooks/<slug:provider>/",
        api.TrackerWebhookView.as_view(),
        name="tracker-webhook",
    ),
]
