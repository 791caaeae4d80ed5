"""A logging filter that masks ID numbers and phone numbers in every record."""

from __future__ import annotations

import logging

from livingroom.core.masking import mask_text


class MaskPiiFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break logging
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
