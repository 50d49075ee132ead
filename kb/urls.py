"""URL routes: pages per app, one DRF router under /api/v1/, health probes."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from actions.api import ActionItemViewSet
from findings import api as findings_api
from findings import integrations
from insights import api as insights_api
from kb import views
from postmortems import api as postmortems_api
from trackers.urls import api_urlpatterns as tracker_api_urls

router = DefaultRouter()
router.register("teams", postmortems_api.TeamViewSet, basename="team")
router.register("services", postmortems_api.ServiceViewSet, basename="service")
router.register("incidents", postmortems_api.IncidentViewSet, basename="incident")
router.register("postmortems", postmortems_api.PostmortemViewSet, basename="postmortem")
router.register("action-items", ActionItemViewSet, basename="action-item")
router.register(
    "failure-classes", insights_api.FailureClassViewSet, basename="failure-class"
)
router.register("insight-runs", insights_api.InsightRunViewSet, basename="insight-run")
router.register(
    "class-memberships",
    insights_api.ClassMembershipViewSet,
    basename="class-membership",
)
router.register("findings", findings_api.FindingViewSet, basename="finding")
# One webhook per folder in findings/integrations/.
for prefix, viewset, basename in integrations.webhook_routes():
    router.register(prefix, viewset, basename=basename)

# An unknown URL, an unreadable request or a bug under /api/ answers problem
# details (kb.problems), as the API's clients expect.
handler400 = "kb.views.bad_request"
handler404 = "kb.views.not_found"
handler500 = "kb.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("favicon.ico", views.favicon, name="favicon"),
    # Before Django's auth URLs: the same name, with a rate limit.
    path(
        "accounts/password_reset/",
        views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("actions/", include("actions.urls")),
    path("insights/", include("insights.urls")),
    path("notifications/", include("notifications.urls")),
    path("trackers/", include("trackers.urls")),
    path("chat/", include("chat.urls")),
    path("", include("postmortems.urls")),
    path("", include("findings.urls")),
    path("api/v1/trackers/", include(tracker_api_urls)),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.ApiDocsView.as_view(), name="api-docs"),
]
