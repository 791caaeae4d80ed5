"""Authenticating requests signed by registered devices (see ``livingroom.core.signing``)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import APIKeyHeader

from livingroom.core import signing
from livingroom.places import errors
from livingroom.places.models import Device
from livingroom.places.services import device_touch


def authenticate_device(request: HttpRequest) -> Device:
    key_id = request.headers.get("X-Device-Key", "")
    signature = request.headers.get("X-Signature", "")
    if not key_id or not signature:
        raise errors.SignatureMissing()
    device = Device.objects.select_related("center").filter(key_id=key_id[:40], is_active=True).first()
    if device is None:
        raise errors.DeviceUnknown()
    signing.verify(
        secret=device.secret,
        scope=f"device:{device.pk}",
        method=request.method or "GET",
        path=request.get_full_path(),
        body=request.body,
        timestamp=request.headers.get("X-Timestamp", ""),
        nonce=request.headers.get("X-Nonce", ""),
        signature=signature,
    )
    device_touch(device=device)
    return device


class DeviceAuth(APIKeyHeader):
    """Ninja auth for signed device requests; sets ``request.device``."""

    param_name = "X-Device-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Device | None:
        device = authenticate_device(request)
        request.device = device  # type: ignore[attr-defined]
        return device


device_auth = DeviceAuth()


def device_of(request: HttpRequest) -> Device:
    device = getattr(request, "device", None)
    if not isinstance(device, Device):
        raise errors.SignatureMissing()
    return device
