"""The production profile: ``DJANGO_SETTINGS_MODULE=livingroom.settings_production``.

Everything of ``livingroom.settings`` (still driven by environment variables, see
docs/operations.md), plus what a site on the open internet must have, so that
``livingroom check --deploy`` reports nothing: no debug, secrets from the environment (never the
development files under ``var/``), HTTPS only with HSTS, secure cookies. TLS ends at the reverse
proxy, which sets ``X-Forwarded-Proto`` (and REMOTE_ADDR correctly, see core.middleware.client_ip).
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from livingroom.settings import *  # noqa: F403
from livingroom.settings import env_bool, env_int


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"The production profile needs the environment variable {name}.")
    return value


DEBUG = False
SECRET_KEY = _required("DJANGO_SECRET_KEY")
LIVINGROOM_PII_KEY = _required("LIVINGROOM_PII_KEY")
ALLOWED_HOSTS = [h.strip() for h in _required("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]
LIVINGROOM_DEMO_HINTS = False
WHITENOISE_AUTOREFRESH = False

SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
