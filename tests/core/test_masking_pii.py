import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livingroom.core import masking, pii
from livingroom.core.logging import MaskPiiFilter


def test_mask_examples_from_design():
    assert masking.mask_name("张三") == "张*"
    assert masking.mask_name("欧阳娜娜") == "欧***"
    assert masking.mask_id_number("44030619900101123X") == "4403**********123X"
    assert masking.mask_phone("13812341234") == "138****1234"
    assert masking.mask_phone("+86 138 1234 1234") == "138****1234"
    assert masking.mask("", "name") == ""
    assert masking.mask(None, "phone") == ""


def test_mask_text_masks_ids_and_phones_in_free_text():
    text = "居民 44030619900101123X 电话13812341234 已登记"
    assert masking.mask_text(text) == "居民 4403**********123X 电话138****1234 已登记"


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_masked_phone_never_shows_the_middle(phone):
    masked = masking.mask_phone(phone)
    assert masked[3:7] == "****" and masked[:3] == phone[:3] and masked[-4:] == phone[-4:]


def test_log_filter_masks_pii():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "login %s id %s", ("13812341234", "44030619900101123X"), None
    )
    MaskPiiFilter().filter(record)
    assert record.getMessage() == "login 138****1234 id 4403**********123X"


def test_encrypt_roundtrip_and_randomised():
    a, b = pii.encrypt("44030619900101123X"), pii.encrypt("44030619900101123X")
    assert a != b and a.startswith("pii1.") and "4403061990" not in a
    assert pii.decrypt(a) == pii.decrypt(b) == "44030619900101123X"


def test_tampered_ciphertext_is_refused():
    token = pii.encrypt("secret")
    broken = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        pii.decrypt(broken)


def test_old_keys_still_decrypt_after_rotation(settings):
    import base64
    import os

    old_key = settings.LIVINGROOM_PII_KEY
    token = pii.encrypt("rotate me")
    settings.LIVINGROOM_PII_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings.LIVINGROOM_PII_OLD_KEYS = [old_key]
    assert pii.decrypt(token) == "rotate me"
    assert pii.needs_rotation(token)
    assert not pii.needs_rotation(pii.encrypt("new"))


def test_blind_index_is_keyed_and_normalised():
    assert pii.blind_index("44030619900101123x", purpose="id") == pii.blind_index(
        " 44030619900101123X", purpose="id"
    )
    assert pii.blind_index("x", purpose="id") != pii.blind_index("x", purpose="phone")
