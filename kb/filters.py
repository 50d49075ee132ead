"""The API's filter backends: a query parameter the schema does not allow is a
problem that names it, never silently ignored.

django-filter, made for HTML forms, ignores an empty value (``?date_to=``) and any
boolean it does not recognise (``?overdue=maybe``), and DRF's ordering ignores
an unknown field. The pages keep that leniency; the API answers 400, so what it
accepts is exactly what its schema says. A parameter naming something that does
not exist (``?team=no-such-team``) is well formed: 422.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from rest_framework.exceptions import ErrorDetail
from rest_framework.filters import OrderingFilter as DrfOrderingFilter

from kb.problems import QueryParametersInvalid

# Filters whose value is any text: an empty value is a value.
TEXT_FILTERS = (filters.CharFilter, filters.ModelChoiceFilter)
REFERENCE_FILTERS = (filters.ModelChoiceFilter, filters.ModelMultipleChoiceFilter)
BOOLEANS = ("true", "false")


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        errors = _strict_errors(filterset, request.query_params)
        if not errors and filterset.is_valid():
            return filterset.qs
        for name, field_errors in filterset.form.errors.as_data().items():
            if name in errors:
                continue
            is_reference = isinstance(filterset.filters.get(name), REFERENCE_FILTERS)
            errors[name] = [
                ErrorDetail(
                    message,
                    code="does_not_exist"
                    if is_reference
                    else (error.code or "invalid"),
                )
                for error in field_errors
                for message in _messages(error)
            ]
        raise QueryParametersInvalid(errors)


def _messages(error: DjangoValidationError) -> list[str]:
    return list(error.messages)


def _strict_errors(filterset, params) -> dict[str, list[ErrorDetail]]:
    errors = {}
    for name, filter_ in filterset.filters.items():
        for value in params.getlist(name):
            if value == "" and not isinstance(filter_, TEXT_FILTERS):
                errors[name] = [
                    ErrorDetail(
                        "Empty: give a value, or leave the parameter out.",
                        code="blank",
                    )
                ]
            elif isinstance(filter_, filters.BooleanFilter) and value not in BOOLEANS:
                errors[name] = [ErrorDetail("Must be true or false.", code="invalid")]
    return errors


class OrderingFilter(DrfOrderingFilter):
    """DRF's ordering, refusing a field it cannot order by instead of ignoring it."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params is not None:
            valid = {name for name, _ in self.get_valid_fields(queryset, view, {})}
            # Exactly "name" or "-name", comma-separated, as the schema's pattern.
            unknown = [
                field
                for field in params.split(",")
                if field.removeprefix("-") not in valid
            ]
            if unknown:
                raise QueryParametersInvalid(
                    {
                        self.ordering_param: [
                            ErrorDetail(
                                f"Cannot order by {', '.join(unknown)}; choose from "
                                f"{', '.join(sorted(valid))} (a leading - reverses).",
                                code="invalid_choice",
                            )
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if isinstance(fields, list | tuple):
            names = sorted(fields)
            for parameter in parameters:
                # One field, or several separated by commas.
                parameter["schema"] = {
                    "type": "string",
                    "pattern": f"^-?({'|'.join(names)})(,-?({'|'.join(names)}))*$",
                }
        return parameters


class FilterBackendExtension(DjangoFilterExtension):
    """The schema of kb's filter backend: numbers with their bounds."""

    target_class = "kb.filters.FilterBackend"
    priority = 1

    def resolve_filter_field(
        self, auto_schema, model, filterset_class, field_name, filter_field
    ):
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        if isinstance(filter_field, filters.NumberFilter):
            extra = filter_field.extra
            for parameter in parameters:
                schema = parameter["schema"]
                if extra.get("decimal_places") == 0:
                    schema["type"] = "integer"
                if extra.get("min_value") is not None:
                    schema["minimum"] = extra["min_value"]
                if extra.get("max_value") is not None:
                    schema["maximum"] = extra["max_value"]
        return parameters
