import datetime as dt

import pytest

from livingroom.core.errors import InvalidInput
from livingroom.core.validators import normalize_phone, normalize_uscc, parse_id_number
from tests.factories import make_id_number


def test_valid_id_number_gives_birth_date_and_sex():
    number = make_id_number(dt.date(1953, 11, 20), seq=12, sex=2)
    parsed = parse_id_number(number.lower())
    assert parsed.number == number
    assert parsed.birth_date == dt.date(1953, 11, 20)
    assert parsed.sex == "F"
    assert parse_id_number(make_id_number(dt.date(1990, 1, 1), sex=7)).sex == "M"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("44030619900101123", "id_number_format"),
        ("4403061990010112345", "id_number_format"),
        ("44030619900101A234", "id_number_format"),
        ("", "id_number_format"),
    ],
)
def test_malformed_id_numbers(value, code):
    with pytest.raises(InvalidInput) as exc:
        parse_id_number(value)
    assert exc.value.code == code and exc.value.field == "id_number"


def test_wrong_check_digit():
    good = make_id_number()
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(InvalidInput) as exc:
        parse_id_number(wrong)
    assert exc.value.code == "id_number_checksum"


def test_impossible_birth_date():
    body = "44030619901332123"  # 13th month
    from stdnum.cn import ric

    with pytest.raises(InvalidInput) as exc:
        parse_id_number(body + ric.calc_check_digit(body + "0"))
    assert exc.value.code == "id_number_birth_date"


def test_future_birth_date():
    future = dt.date.today() + dt.timedelta(days=400)
    with pytest.raises(InvalidInput) as exc:
        parse_id_number(make_id_number(future, area="440306"))
    assert exc.value.code in {"id_number_birth_date", "id_number_region"}


@pytest.mark.parametrize("raw", ["13812341234", "+86 138 1234 1234", "138-1234-1234"])
def test_phone_normalised(raw):
    assert normalize_phone(raw) == "13812341234"


@pytest.mark.parametrize("raw", ["", "12345", "0755-12345678", "+1 415 555 2671", "1381234123", "x" * 40])
def test_invalid_phone(raw):
    with pytest.raises(InvalidInput) as exc:
        normalize_phone(raw)
    assert exc.value.code == "invalid_phone"


def test_uscc():
    assert normalize_uscc("91110000600037341L") == "91110000600037341L"
    with pytest.raises(InvalidInput) as exc:
        normalize_uscc("91110000600037341X")
    assert exc.value.code == "invalid_uscc"


def test_unknown_region_code():
    body = "99000019900101123"
    from stdnum.cn import ric

    with pytest.raises(InvalidInput) as exc:
        parse_id_number(body + ric.calc_check_digit(body + "0"))
    assert exc.value.code == "id_number_region"


def test_region_code_newer_than_birth_is_accepted():
    # 宝安区 (440306) dates from 1992; people born earlier can carry it, having registered later.
    assert parse_id_number(make_id_number(dt.date(1953, 1, 2))).birth_date == dt.date(1953, 1, 2)
