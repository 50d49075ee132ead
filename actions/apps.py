from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "actions"
    verbose_name = "Action items"

    def ready(self) -> None:
        from actions import demo, hooks, services
        from postmortems import extensions

        extensions.register(extensions.approval_checks, services.coverage_check)
        extensions.register(
            extensions.postmortem_page_contexts,
            hooks.postmortem_page_context,
        )
        extensions.register(extensions.import_checks, hooks.import_problems)
        extensions.register(
            extensions.import_action_item_writers, hooks.import_action_items
        )
        extensions.register(extensions.demo_loaders, demo.load_demo_action_items)
        for entry in (
            extensions.NavItem("Action items", "actions:item_list", order=30),
            extensions.NavItem("Dashboard", "actions:dashboard", order=40),
        ):
            extensions.register(extensions.nav_items, entry)
