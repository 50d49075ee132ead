"""REST API: /api/v1/action-items/. Same visibility and permissions as the pages."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets

from actions import permissions as rules
from actions import selectors, services
from actions.filters import ActionItemFilter
from actions.serializers import ActionItemSerializer
from kb.filters import FilterBackend
from postmortems.serializers import api_errors

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
            return rules.can_create_items(request.user)
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return rules.can_edit_item(request.user, obj)


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

    def perform_create(self, serializer):
        with api_errors():
            serializer.instance = services.action_item_create(
                **serializer.validated_data, created_by=self.request.user
            )

    def perform_update(self, serializer):
        with api_errors():
            serializer.instance = services.action_item_update(
                item=serializer.instance,
                actor=self.request.user,
                **serializer.validated_data,
            )
