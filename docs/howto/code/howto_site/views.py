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


def wave_at(request):
    """A session made server-side before the page loads (Bokeh's pull_session + server_session)."""
    from docsync.bokeh.sessions import make_session  # the docsync[bokeh] extra
    from docsync.embed import server_session

    handle = make_session(request, "wave")  # runs the app now; amake_session in async views
    handle.modify(lambda doc: setattr(doc.select_one({"name": "frequency"}), "value", 2.5))
    return render(request, "wave_at.html", {"app": server_session("wave", handle.id)})
