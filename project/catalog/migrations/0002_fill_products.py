"""Fill the catalog with 60 deterministic products for the table example."""

from decimal import Decimal

from django.db import migrations

CATEGORIES = ["books", "garden", "kitchen", "music", "tools", "toys"]
ADJECTIVES = ["Blue", "Quick", "Quiet", "Sturdy", "Tiny", "Bright", "Smooth", "Golden", "Rustic", "Modern"]


def fill(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    products = []
    for i in range(60):
        category = CATEGORIES[i % len(CATEGORIES)]
        name = f"{ADJECTIVES[i % len(ADJECTIVES)]} {category[:-1] if category.endswith('s') else category} {i + 1}"
        price = Decimal(5 + (i * 37) % 95) + Decimal("0.99")
        products.append(Product(name=name, category=category, price=price, stock=(i * 13) % 50))
    Product.objects.bulk_create(products)


def empty(apps, schema_editor):
    apps.get_model("catalog", "Product").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(fill, empty)]
