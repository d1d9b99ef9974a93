"""ASGI entry point: HTTP through Django, websockets through docsync's consumer."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from docsync.asgi import get_asgi_application

# Django's ASGI handler, with the middleware chain and views in one thread hop per request.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from docsync.auth import WebsocketAuthMiddleware  # noqa: E402  (needs Django set up first)
from docsync.lifespan import LifespanApp  # noqa: E402
from docsync.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebsocketAuthMiddleware(URLRouter(websocket_urlpatterns)),
        "lifespan": LifespanApp(),
    }
)
