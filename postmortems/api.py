"""REST API (``/api/v1/``): teams, services, incidents, postmortems.

Reading is open to every signed-in user within what they may see (another team's
draft postmortem is a 404). Writing is for editors of the owning team: another
team's incident or postmortem is a 404, a viewer gets a 403.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from postmortems import selectors
from postmortems.filters import IncidentFilter, PostmortemFilter
from postmortems.models import Incident, Postmortem, Role, Service, Team
from postmortems.permissions import (
    can_edit_incident,
    can_edit_postmortem,
    has_role,
)
from postmortems.serializers import (
    IncidentSerializer,
    PostmortemSerializer,
    ServiceSerializer,
    TeamSerializer,
    TimestampCorrectionSerializer,
    WorkflowSerializer,
    api_errors,
)
from postmortems.services import incidents as incident_services
from postmortems.services import postmortems as postmortem_services


def _error(description: str) -> OpenApiResponse:
    # The body is problem details (kb.schema adds it to every error response).
    return OpenApiResponse(description=description)


ERRORS = {
    400: _error("Invalid input: the body maps each field to its problems."),
    401: _error("Not signed in."),
    403: _error("Signed in, but your role does not allow this."),
    404: _error("No such object, or not one you may see or change."),
    429: _error("Too many requests."),
}
READ_ERRORS = {
    **{code: ERRORS[code] for code in (400, 401, 403, 429)},
    404: _error("No such page of results (?page= past the last page)."),
}
OBJECT_ERRORS = {code: ERRORS[code] for code in (401, 403, 404, 429)}


def _documented(
    serializer,
    *,
    writable: bool = True,
    update_errors: dict | None = None,
    update_parameters: list | None = None,
):
    """drf-spectacular docs for a viewset, with every error it can answer."""
    views = {
        "list": extend_schema(responses={200: serializer(many=True), **READ_ERRORS}),
        "retrieve": extend_schema(responses={200: serializer, **OBJECT_ERRORS}),
    }
    if writable:
        update = extend_schema(
            parameters=update_parameters or [],
            responses={200: serializer, **ERRORS, **(update_errors or {})},
        )
        views.update(
            create=extend_schema(responses={201: serializer, **ERRORS}),
            update=update,
            partial_update=update,
        )
    return extend_schema_view(**views)


class CanWrite(permissions.BasePermission):
    """Reads for everyone signed in; writes for editors who may edit the object."""

    def has_permission(self, request: Request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return has_role(request.user, Role.EDITOR)

    def has_object_permission(self, request: Request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return view.can_edit(request.user, obj)


@_documented(TeamSerializer, writable=False)
class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Team.objects.order_by("name")
    serializer_class = TeamSerializer


@_documented(ServiceSerializer, writable=False)
class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Service.objects.select_related("team").order_by("name")
    serializer_class = ServiceSerializer
    filterset_fields = ("team__slug",)


@_documented(IncidentSerializer)
class IncidentViewSet(viewsets.ModelViewSet):
    # The base set; get_queryset narrows it per user (and names it for the schema).
    queryset = Incident.objects.all()
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    permission_classes = [permissions.IsAuthenticated, CanWrite]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ("started_at", "severity", "id")

    def get_queryset(self) -> QuerySet:
        queryset = selectors.incident_list(user=self.request.user)
        if self.request.method not in permissions.SAFE_METHODS:
            # Another team's incident does not exist for writes.
            queryset = queryset.writable_by(self.request.user)
        return queryset

    def can_edit(self, user, incident) -> bool:
        return can_edit_incident(user, incident)

    @extend_schema(
        request=TimestampCorrectionSerializer,
        responses={200: IncidentSerializer, **ERRORS},
        description="A reviewer corrects one lifecycle timestamp; the reason and "
        "who made it are recorded in the incident's history.",
    )
    @action(detail=True, methods=["post"], url_path="correct-timestamp")
    def correct_timestamp(self, request: Request, pk=None) -> Response:
        incident = self.get_object()
        serializer = TimestampCorrectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with api_errors():
            incident_services.incident_correct_timestamp(
                incident=incident, actor=request.user, **serializer.validated_data
            )
        incident = self.get_queryset().get(pk=incident.pk)
        return Response(self.get_serializer(incident).data)


@_documented(
    PostmortemSerializer,
    update_errors={
        412: _error("If-Match names an older version: someone saved since then.")
    },
    update_parameters=[
        OpenApiParameter(
            "If-Match",
            str,
            OpenApiParameter.HEADER,
            description="The version you edited (the ETag of GET); stale gives 412.",
        )
    ],
)
class PostmortemViewSet(viewsets.ModelViewSet):
    queryset = Postmortem.objects.all()
    serializer_class = PostmortemSerializer
    filterset_class = PostmortemFilter
    permission_classes = [permissions.IsAuthenticated, CanWrite]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ("incident__started_at", "id")

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        queryset = selectors.postmortem_list(user=user)
        if self.request.method not in permissions.SAFE_METHODS:
            queryset = queryset.writable_by(user)
        return queryset

    def can_edit(self, user, postmortem) -> bool:
        if self.action in WORKFLOW_ACTIONS:
            # Who may take a workflow step is the step's service's rule.
            return True
        return can_edit_postmortem(user, postmortem)

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if_match = self.request.headers.get("If-Match", "").strip().strip('"')
        if if_match.isdigit():
            context["expected_version"] = int(if_match)
        return context

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = f'"{response.data["version"]}"'
        return response

    # --- The review workflow: each verb calls its one service ----------------

    def _step(self, request: Request, service, **extra) -> Response:
        postmortem = self.get_object()
        body = WorkflowSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        arguments = {"comment": body.validated_data["comment"], **extra}
        if service is postmortem_services.postmortem_submit:
            arguments["acknowledge_blame"] = body.validated_data["acknowledge_blame"]
        try:
            with api_errors():
                service(postmortem=postmortem, actor=request.user, **arguments)
        except postmortem_services.BlameNotAcknowledged as exc:
            raise ValidationError(
                {
                    "acknowledge_blame": [
                        f"{len(exc.hits)} blameless-language warning(s): "
                        + "; ".join(
                            f"{hit['label']}: “{hit['text']}”" for hit in exc.hits
                        )
                        + ". Rewrite them, or send acknowledge_blame: true."
                    ]
                }
            ) from exc
        postmortem = selectors.postmortem_list(user=request.user).get(pk=postmortem.pk)
        return Response(self.get_serializer(postmortem).data)

    @extend_schema(
        request=WorkflowSerializer,
        responses={200: PostmortemSerializer, **ERRORS},
        description="Send a draft to its reviewers (blameless-language warnings "
        "need acknowledge_blame).",
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk=None) -> Response:
        return self._step(request, postmortem_services.postmortem_submit)

    @extend_schema(
        request=WorkflowSerializer,
        responses={200: PostmortemSerializer, **ERRORS},
        description="A named reviewer approves; the coverage policy must be met.",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk=None) -> Response:
        return self._step(request, postmortem_services.postmortem_approve)

    @extend_schema(
        request=WorkflowSerializer,
        responses={200: PostmortemSerializer, **ERRORS},
        description="A named reviewer returns it to draft; the comment is required.",
    )
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request: Request, pk=None) -> Response:
        return self._step(request, postmortem_services.postmortem_send_back)

    @extend_schema(
        request=None,
        responses={200: PostmortemSerializer, **ERRORS},
        description="The author or an admin publishes an approved postmortem.",
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk=None) -> Response:
        postmortem = self.get_object()
        with api_errors():
            postmortem_services.postmortem_publish(
                postmortem=postmortem, actor=request.user
            )
        postmortem = selectors.postmortem_list(user=request.user).get(pk=postmortem.pk)
        return Response(self.get_serializer(postmortem).data)


WORKFLOW_ACTIONS = ("submit", "approve", "send_back", "publish")
