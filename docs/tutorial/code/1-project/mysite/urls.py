# mysite/urls.py: add at the end
from django.urls import include

urlpatterns += [path("dash/", include("docsync.urls"))]
