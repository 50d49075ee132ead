"""REST API: failure classes, class memberships, insight runs (read, start a run)."""

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from insights import selectors, services
from insights.models import ClassStatus, FailureClass, InsightRun
from insights.serializers import (
    ClassMembershipSerializer,
    FailureClassSerializer,
    InsightRunSerializer,
)
from postmortems.models import Role
from postmortems.permissions import has_role

ERRORS = {
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Not allowed for your role."),
    404: OpenApiResponse(description="No such row."),
    429: OpenApiResponse(description="Too many requests."),
}


class StartRunPermission(permissions.IsAuthenticated):
    """Everyone signed in reads; editors start runs."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if getattr(view, "action", None) == "start":
            return has_role(request.user, Role.EDITOR)
        return True


@extend_schema_view(
    list=extend_schema(responses={200: FailureClassSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: FailureClassSerializer, **ERRORS}),
)
class FailureClassViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = (
        FailureClass.objects.exclude(status=ClassStatus.MERGED)
        .select_related("merged_into")
        .order_by("slug")
    )
    serializer_class = FailureClassSerializer
    lookup_field = "slug"
    # Slugs only: anything else (a NUL character breaks PostgreSQL) is a 404.
    lookup_value_regex = "[-a-zA-Z0-9_]+"


@extend_schema_view(
    list=extend_schema(responses={200: InsightRunSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: InsightRunSerializer, **ERRORS}),
)
class InsightRunViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = InsightRun.objects.order_by("-pk")
    serializer_class = InsightRunSerializer
    permission_classes = [StartRunPermission]

    @extend_schema(
        request=None,
        responses={202: InsightRunSerializer, **ERRORS},
        summary="Start a full insights run (or return the one already queued)",
    )
    @action(detail=False, methods=["post"])
    def start(self, request):
        run = services.insight_run_request(user=request.user)
        return Response(InsightRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "postmortem", int, description="Only this postmortem's classes."
            ),
            OpenApiParameter(
                "failure_class", str, description="Only this class (its slug)."
            ),
        ],
        responses={
            200: ClassMembershipSerializer(many=True),
            400: OpenApiResponse(description="A bad filter value; errors per field."),
            **ERRORS,
        },
    )
)
class ClassMembershipViewSet(viewsets.ViewSet):
    """Each readable postmortem's classes: confirmed, or inferred and how surely."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ClassMembershipSerializer

    def list(self, request):
        postmortem = request.query_params.get("postmortem")
        if postmortem is not None and not postmortem.isdigit():
            raise ValidationError(
                {"postmortem": ["A postmortem id is a whole number."]}
            )
        rows = selectors.class_memberships(
            user=request.user,
            postmortem_ids=[int(postmortem)] if postmortem is not None else None,
            class_slug=request.query_params.get("failure_class") or None,
        )
        return Response(ClassMembershipSerializer(rows, many=True).data)
