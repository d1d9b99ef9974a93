"""table: filter products of the catalog; callbacks query the Django ORM."""

from __future__ import annotations

from typing import Any

from docsync.document import Document
from docsync.document.models import Column, ColumnDataSource, DataTable, Div, Row, Select, TableColumn, TextInput

ALL = "all"


def query(text: str, category: str) -> dict[str, list[Any]]:
    """Return the columns of the products matching the filters (runs in a worker thread)."""
    from project.catalog.models import Product

    products = Product.objects.all()
    if text:
        products = products.filter(name__icontains=text)
    if category != ALL:
        products = products.filter(category=category)
    rows = list(products.values_list("name", "category", "price", "stock"))
    return {
        "name": [r[0] for r in rows],
        "category": [r[1] for r in rows],
        "price": [float(r[2]) for r in rows],
        "stock": [r[3] for r in rows],
    }


def modify_doc(doc: Document) -> None:
    """Build the table app (a sync function: docsync runs it in a worker thread)."""
    from project.catalog.models import Product

    categories = sorted(set(Product.objects.values_list("category", flat=True)))
    source = ColumnDataSource(data=query("", ALL), name="source")
    search = TextInput(title="name contains", placeholder="e.g. quick", name="search")
    category = Select(title="category", options=[ALL, *categories], value=ALL, name="category")
    count = Div(text=f"{source.length} products", name="count")
    table = DataTable(
        source=source,
        columns=[
            TableColumn(field="name", title="Name"),
            TableColumn(field="category", title="Category"),
            TableColumn(field="price", title="Price"),
            TableColumn(field="stock", title="Stock"),
        ],
        height=400,
        name="table",
    )

    def refilter(attr: str, old: Any, new: Any) -> None:
        source.data = query(search.value.strip(), category.value)
        count.text = f"{source.length} products"

    search.on_change("value", refilter)
    category.on_change("value", refilter)
    doc.add_root(Column(Row(search, category), count, table, name="layout"))
    doc.title = "table"
