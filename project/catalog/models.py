"""Products of the demo catalog."""

from django.db import models


class Product(models.Model):
    """A product with a category, a price and a stock count."""

    name = models.CharField(max_length=100)
    category = models.CharField(max_length=40, db_index=True)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
