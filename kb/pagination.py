"""The API's pagination: DRF's page numbers, refusing an empty ``?page=``."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination as DrfPageNumberPagination


class PageNumberPagination(DrfPageNumberPagination):
    """DRF reads ``?page=`` as page 1; the schema says a page is an integer, so an
    empty one is refused like any other page that does not exist (404)."""

    def get_page_number(self, request, paginator):
        if request.query_params.get(self.page_query_param) == "":
            raise NotFound("Invalid page: give a page number, or leave page out.")
        return super().get_page_number(request, paginator)
