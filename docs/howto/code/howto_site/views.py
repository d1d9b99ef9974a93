from django.shortcuts import render


def report(request):
    """A page of the site that shows the greeting app for the region in its query string."""
    region = request.GET.get("region", "north")
    return render(request, "report.html", {"region": region, "arguments": {"region": region}})
