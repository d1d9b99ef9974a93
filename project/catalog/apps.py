"""The demo catalog: products that the table example queries through the ORM."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The demo catalog app."""

    name = "project.catalog"
    label = "catalog"
    default_auto_field = "django.db.models.BigAutoField"
