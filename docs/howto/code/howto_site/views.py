from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def report(request):
    """A page of the site that shows the greeting app for the region in its query string."""
    region = request.GET.get("region", "north")
    return render(request, "report.html", {"region": region, "arguments": {"region": region}})


@login_required
def shapes(request):
    """Migrating from bokeh-django: the page that embedded the ``autoload`` route now uses the template tag."""
    return render(request, "shapes.html")
