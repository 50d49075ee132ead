from django.urls import path

from actions import views

app_name = "actions"

urlpatterns = [
    path("", views.item_list, name="item_list"),
    path("export.csv", views.item_export, name="item_export"),
    path("mine/", views.my_items, name="my_items"),
    path("new/", views.item_create, name="item_create"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/new/", views.review_create, name="review_create"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("<int:pk>/", views.item_detail, name="item_detail"),
    path("<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("<int:pk>/status/", views.item_status, name="item_status"),
    path("<int:pk>/decision/", views.item_decision, name="item_decision"),
    path(
        "postmortem/<int:pk>/items/",
        views.postmortem_items,
        name="postmortem_items",
    ),
    path(
        "postmortem/<int:pk>/items/new/",
        views.postmortem_item_new,
        name="postmortem_item_new",
    ),
    path(
        "postmortem/<int:pk>/items/<int:item_pk>/edit/",
        views.postmortem_item_edit,
        name="postmortem_item_edit",
    ),
]
