# weather/admin.py: the whole file
from django.contrib import admin

from .models import Reading

admin.site.register(Reading, list_display=["station", "taken_at", "temperature"])
