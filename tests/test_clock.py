import pytest

from optimizer import clock as timeparse


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("08:30", 30600),
        ("8:30", 30600),
        ("00:00", 0),
        ("24:00", 86400),
        ("09:15:30", 33330),
        ("10：00", 36000),
    ],
)
def test_hhmm_accepted(text: str, seconds: int) -> None:
    assert timeparse.parse_hhmm(text) == seconds


@pytest.mark.parametrize("text", ["25:00", "8.30", "12:60", "24:01", "noon", "", "-1:00"])
def test_hhmm_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="expected HH:MM"):
        timeparse.parse_hhmm(text)


@pytest.mark.parametrize(("text", "seconds"), [("30", 1800), ("45.5", 2730), ("0.01", 1)])
def test_minutes(text: str, seconds: int) -> None:
    assert timeparse.parse_minutes(text) == seconds


@pytest.mark.parametrize("text", ["0", "-5", "abc", "nan", "inf", "2000"])
def test_minutes_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        timeparse.parse_minutes(text)


def test_int_accepts_excel_floats_only_when_whole() -> None:
    assert timeparse.parse_int("2.0", minimum=1) == 2
    with pytest.raises(ValueError, match="whole number"):
        timeparse.parse_int("2.5", minimum=1)
    with pytest.raises(ValueError, match=">= 1"):
        timeparse.parse_int("0", minimum=1)


def test_list_splits_on_both_semicolons() -> None:
    assert timeparse.parse_list("ID card; household register；; ") == (
        "ID card",
        "household register",
    )
