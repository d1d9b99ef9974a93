"""The demo site's ASGI application with Django's own HTTP handler, to compare docsync.asgi's against."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.hardening.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from docsync.auth import WebsocketAuthMiddleware  # noqa: E402
from docsync.lifespan import LifespanApp  # noqa: E402
from docsync.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebsocketAuthMiddleware(URLRouter(websocket_urlpatterns)),
        "lifespan": LifespanApp(),
    }
)
