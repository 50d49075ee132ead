"""REST API: /api/v1/action-items/. Same visibility and permissions as the pages."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from actions import selectors, services
from actions.filters import ActionItemFilter
from actions.serializers import ActionItemSerializer
from kb.filters import FilterBackend
from postmortems.permissions import can_view_postmortem

ERRORS = {
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Not allowed for your role."),
    404: OpenApiResponse(description="No such item you can see."),
    429: OpenApiResponse(description="Too many requests."),
}
INVALID = {400: OpenApiResponse(description="Invalid data; errors per field.")}


class ActionItemPermission(permissions.BasePermission):
    """Anyone signed in reads what they may see; editors of the team write."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if view.action == "create":
            return selectors.can_create_items(request.user)
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return selectors.can_edit_item(request.user, obj)


def _service_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    # "rule": well formed but refused by a rule (the API answers 422).
    return serializers.ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else exc.messages, code="rule"
    )


@extend_schema_view(
    list=extend_schema(
        summary="List action items (filterable, ordered, paginated)",
        responses={200: ActionItemSerializer(many=True), 400: INVALID[400], **ERRORS},
    ),
    retrieve=extend_schema(responses={200: ActionItemSerializer, **ERRORS}),
    create=extend_schema(
        summary="Create an action item (due date defaults from its priority)",
        responses={201: ActionItemSerializer, **INVALID, **ERRORS},
    ),
    update=extend_schema(responses={200: ActionItemSerializer, **INVALID, **ERRORS}),
    partial_update=extend_schema(
        responses={200: ActionItemSerializer, **INVALID, **ERRORS}
    ),
    destroy=extend_schema(responses={204: None, **ERRORS}),
)
class ActionItemViewSet(viewsets.ModelViewSet):
    serializer_class = ActionItemSerializer
    filterset_class = ActionItemFilter
    filter_backends = [FilterBackend]
    permission_classes = [ActionItemPermission]

    def get_queryset(self):
        return selectors.action_item_list(user=self.request.user)

    def _check_targets(self, data) -> None:
        user = self.request.user
        team = data.get("team")
        if (
            team is not None
            and not selectors.editable_teams(user).filter(pk=team.pk).exists()
        ):
            raise PermissionDenied("You can only assign items to your own teams.")
        postmortem = data.get("postmortem")
        if postmortem is not None and not can_view_postmortem(user, postmortem):
            raise serializers.ValidationError(
                {"postmortem": "No such postmortem."}, code="does_not_exist"
            )

    def perform_create(self, serializer):
        self._check_targets(serializer.validated_data)
        try:
            serializer.instance = services.action_item_create(
                **serializer.validated_data, created_by=self.request.user
            )
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "team" in data and data["team"].pk != serializer.instance.team_id:
            self._check_targets({"team": data["team"]})
        if "postmortem" in data:
            self._check_targets({"postmortem": data["postmortem"]})
        try:
            serializer.instance = services.action_item_update(
                item=serializer.instance, actor=self.request.user, **data
            )
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc
