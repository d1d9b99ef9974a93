# mysite/settings.py: add at the end
INSTALLED_APPS = ["daphne", *INSTALLED_APPS, "channels", "docsync"]  # daphne first: runserver serves websockets
ASGI_APPLICATION = "mysite.asgi.application"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
DOCSYNC = {"APPS": {"dashboard": "mysite.dashboard"}}  # mysite/dashboard.py, served at /dash/dashboard/
