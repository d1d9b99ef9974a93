urlpatterns: list[object] = []  # a urls.py that forgot include("docsync.urls")
