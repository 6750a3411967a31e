"""Exact Kubernetes quantity parsing and formatting."""
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import example, given, strategies as st

from kubernetes.utils import parse_quantity as client_parse_quantity

from ansible_collections.lakehouse.platform.plugins.module_utils.quantity import (
    QuantityError,
    cpu_millicores,
    format_bytes,
    format_cpu,
    humanize_bytes,
    memory_bytes,
    parse_quantity,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("400m", Fraction(2, 5)),
        ("4Gi", 4 * 2 ** 30),
        ("1.5", Fraction(3, 2)),
        ("2e3", 2000),
        ("2E3", 2000),
        ("1e-3", Fraction(1, 1000)),
        ("1E+2", 100),
        ("100Mi", 100 * 2 ** 20),
        ("1G", 10 ** 9),
        ("1E", 10 ** 18),  # exa, not an exponent
        ("1Ei", 2 ** 60),
        ("0.5Ki", 512),
        ("1n", Fraction(1, 10 ** 9)),
        ("1u", Fraction(1, 10 ** 6)),
        ("1k", 1000),
        ("3T", 3 * 10 ** 12),
        ("2P", 2 * 10 ** 15),
        ("5.", 5),
        (".5", Fraction(1, 2)),
        ("+1", 1),
        ("0", 0),
        ("007", 7),
        ("1.5m", Fraction(3, 2000)),
    ],
)
def test_parses_every_suffix_exactly(text, expected):
    assert parse_quantity(text) == expected
    assert isinstance(parse_quantity(text), Fraction)


def test_mixed_binary_and_decimal_sum_is_exact():
    assert parse_quantity("100Mi") + parse_quantity("1G") == 104857600 + 10 ** 9
    assert memory_bytes("100Mi") + memory_bytes("1G") == 1104857600


def test_exact_where_the_client_decimal_rounds():
    # 30 significant digits times 2**60: the kubernetes client's 28-digit Decimal context rounds this.
    text = "0.123456789012345678901234567891Ei"
    exact = Fraction("0.123456789012345678901234567891") * 2 ** 60
    assert parse_quantity(text) == exact
    assert Fraction(client_parse_quantity(text)) != exact


@pytest.mark.parametrize(
    "value, problem",
    [
        ("4Gx", "unknown suffix 'Gx'"),
        ("1K", "unknown suffix 'K'"),
        ("1ki", "unknown suffix 'ki'"),
        ("1e", "unknown suffix 'e'"),
        ("1e3k", "unknown suffix 'e3k'"),
        ("1_000", "unknown suffix '_000'"),
        ("-1", "negative quantities are not allowed"),
        ("-0.5Gi", "negative quantities are not allowed"),
        ("", "empty value"),
        (None, "no value given"),
        ("1.2.3", "malformed number"),
        (" 1", "surrounding whitespace"),
        ("1 ", "surrounding whitespace"),
        ("1 Gi", "unknown suffix ' Gi'"),
        ("Infinity", "expected a number"),
        ("NaN", "expected a number"),
        (".", "expected a number"),
        ("m", "expected a number"),
        (True, "a boolean is not a quantity"),
        (float("inf"), "not a finite number"),
        ([1], "expected a string or a number, got list"),
        ("1e101", "exponent 101 is out of range"),
    ],
)
def test_refuses_invalid_values_naming_them(value, problem):
    with pytest.raises(QuantityError) as excinfo:
        parse_quantity(value)
    message = str(excinfo.value)
    assert message.startswith("invalid quantity %r: " % (value,))
    assert problem in message
    assert excinfo.value.value is value or excinfo.value.value == value


def test_the_message_has_the_documented_shape():
    with pytest.raises(QuantityError, match=r"^invalid quantity '4Gx': unknown suffix 'Gx'$"):
        parse_quantity("4Gx")


def test_quantity_error_is_a_value_error():
    assert issubclass(QuantityError, ValueError)


def test_negative_allowed_on_request():
    assert parse_quantity("-1", allow_negative=True) == -1
    assert cpu_millicores("-250m", allow_negative=True) == -250
    assert memory_bytes("-1Ki", allow_negative=True) == -1024


def test_numbers_from_yaml():
    assert parse_quantity(2) == 2
    assert parse_quantity(0.1) == Fraction(1, 10)  # shortest decimal repr, not the binary float
    assert parse_quantity(Decimal("0.25")) == Fraction(1, 4)
    assert parse_quantity(Fraction(7, 3)) == Fraction(7, 3)
    assert cpu_millicores(0.5) == 500


@pytest.mark.parametrize(
    "value, millicores",
    [("400m", 400), ("1", 1000), ("1.5", 1500), ("2e3", 2000000), ("1.5m", 2), ("0.1m", 1), ("1n", 1), ("0", 0),
     ("100u", 1)],
)
def test_cpu_millicores_round_up_like_milli_value(value, millicores):
    assert cpu_millicores(value) == millicores


@pytest.mark.parametrize(
    "value, count",
    [("4Gi", 4 * 2 ** 30), ("1G", 10 ** 9), ("0.5", 1), ("1500m", 2), ("128974848", 128974848), ("129e6", 129000000),
     ("123Mi", 128974848)],
)
def test_memory_bytes_round_up_like_value(value, count):
    assert memory_bytes(value) == count


@pytest.mark.parametrize(
    "millicores, text", [(400, "400m"), (1000, "1"), (2000, "2"), (1500, "1500m"), (0, "0"), (-250, "-250m"), (1, "1m")]
)
def test_format_cpu(millicores, text):
    assert format_cpu(millicores) == text


@pytest.mark.parametrize(
    "count, text",
    [
        (4 * 2 ** 30, "4Gi"),
        (2 ** 60, "1Ei"),
        (1536 * 2 ** 20, "1536Mi"),
        (10 ** 9, "1G"),
        (1000, "1k"),
        (1024, "1Ki"),
        (1104857600, "1104857600"),
        (0, "0"),
        (7, "7"),
        (-2048, "-2Ki"),
    ],
)
def test_format_bytes_is_exact_and_canonical(count, text):
    assert format_bytes(count) == text


@pytest.mark.parametrize(
    "count, text",
    [(146 * 2 ** 30 + 2 ** 29, "146.5Gi"), (5 * 2 ** 30, "5Gi"), (512, "512"), (1536, "1.5Ki"), (-3 * 2 ** 20, "-3Mi")],
)
def test_humanize_bytes(count, text):
    assert humanize_bytes(count) == text


# ---- property-style cases -------------------------------------------------------------------------------

_SUFFIXES = ["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]


@st.composite
def quantity_texts(draw):
    # Small enough that the client's 28-digit Decimal stays exact (Ei alone is 19 digits).
    whole = draw(st.integers(min_value=0, max_value=10 ** 4))
    fraction_digits = draw(st.text(alphabet="0123456789", max_size=3))
    suffix = draw(st.sampled_from(_SUFFIXES + ["e3", "E-2", "e+1"]))
    number = str(whole) + ("." + fraction_digits if fraction_digits else "")
    return number + suffix


@given(quantity_texts())
def test_agrees_with_the_kubernetes_client_on_valid_input(text):
    # The client's Decimal result is exact for these short inputs, so it is a fair oracle.
    assert parse_quantity(text) == Fraction(client_parse_quantity(text))


@given(st.integers(min_value=-(2 ** 70), max_value=2 ** 70))
def test_format_bytes_round_trips(count):
    assert memory_bytes(format_bytes(count), allow_negative=True) == count


@given(st.integers(min_value=-(10 ** 9), max_value=10 ** 9))
def test_format_cpu_round_trips(millicores):
    assert cpu_millicores(format_cpu(millicores), allow_negative=True) == millicores


@given(quantity_texts(), quantity_texts())
@example("1n", "10E")  # 29 significant digits: beyond a default Decimal context
def test_addition_is_exact(left, right):
    total = parse_quantity(left) + parse_quantity(right)
    # The oracle adds in a 100-digit context: the default 28 digits would round 10E + 1n.
    with localcontext() as context:
        context.prec = 100
        expected = Decimal(str(client_parse_quantity(left))) + Decimal(str(client_parse_quantity(right)))
    assert total == Fraction(expected)


@given(quantity_texts())
def test_rounded_integers_never_undercount(text):
    exact = parse_quantity(text)
    assert exact <= memory_bytes(text) < exact + 1
    assert exact * 1000 <= cpu_millicores(text) < exact * 1000 + 1


@given(st.text(alphabet="0123456789.eEkKmMGgiI-+ x", min_size=1, max_size=8))
def test_anything_either_parses_nonnegative_or_raises_quantity_error(text):
    try:
        value = parse_quantity(text)
    except QuantityError as error:
        assert repr(text) in str(error)
    else:
        assert value >= 0
