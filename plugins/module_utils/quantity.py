# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exact Kubernetes resource quantities.

Grammar (k8s.io/apimachinery/pkg/api/resource/quantity.go)::

    <quantity>  ::= <signedNumber><suffix>
    <number>    ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
    <suffix>    ::= <binarySI> | <decimalSI> | <decimalExponent>
    <binarySI>  ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI> ::= n | u | m | "" | k | M | G | T | P | E
    <decimalExponent> ::= e<signedInteger> | E<signedInteger>

Why not ``kubernetes.utils.parse_quantity`` (kubernetes client 33.1)? It was checked and does not fit:

* it accepts what the API server refuses: ``-1`` (negative requests), ``Infinity``, ``NaN``, ``1_000``,
  ``1K`` (upper-case K is not a Kubernetes suffix) and ``1e3k`` (an exponent followed by a suffix);
* it computes in ``decimal.Decimal`` with the default 28-digit context, so large binary quantities with
  long fractions are rounded, not exact;
* its errors (``Invalid number format: 4Gx``) do not say which part of the value is wrong.

So this module parses the grammar itself into ``fractions.Fraction`` (exact for every valid quantity)
and converts to integers only at the edges, rounding up exactly like ``Quantity.MilliValue()`` and
``Quantity.Value()`` do in the scheduler: ``1.5m`` CPU counts as 2 millicores, ``0.5`` bytes as 1 byte.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
from decimal import Decimal
from fractions import Fraction

__all__ = [
    "QuantityError",
    "parse_quantity",
    "cpu_millicores",
    "memory_bytes",
    "format_cpu",
    "format_bytes",
    "humanize_bytes",
]

_BINARY_SUFFIXES = {"Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4, "Pi": 1024 ** 5, "Ei": 1024 ** 6}
_DECIMAL_SUFFIXES = {
    "n": Fraction(1, 10 ** 9),
    "u": Fraction(1, 10 ** 6),
    "m": Fraction(1, 10 ** 3),
    "": Fraction(1),
    "k": Fraction(10 ** 3),
    "M": Fraction(10 ** 6),
    "G": Fraction(10 ** 9),
    "T": Fraction(10 ** 12),
    "P": Fraction(10 ** 15),
    "E": Fraction(10 ** 18),
}
_SUFFIX_MULTIPLIERS = dict(_DECIMAL_SUFFIXES)
_SUFFIX_MULTIPLIERS.update((k, Fraction(v)) for k, v in _BINARY_SUFFIXES.items())

_QUANTITY_RE = re.compile(r"^(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<suffix>.*)$", re.DOTALL)
# "1E" is exa, "1E3" is an exponent: the exponent form needs at least one digit.
_EXPONENT_RE = re.compile(r"^[eE](?P<exponent>[+-]?[0-9]+)$")
# Guard against "1e999999999" building a gigantic integer; Kubernetes itself caps quantities far lower.
_MAX_EXPONENT = 100


class QuantityError(ValueError):
    """A value that is not a valid Kubernetes quantity; the message names the value and the problem."""

    def __init__(self, value, problem):
        self.value = value
        self.problem = problem
        super(QuantityError, self).__init__("invalid quantity %r: %s" % (value, problem))


def _suffix_multiplier(value, suffix):
    if suffix in _SUFFIX_MULTIPLIERS:
        return _SUFFIX_MULTIPLIERS[suffix]
    exponent_match = _EXPONENT_RE.match(suffix)
    if exponent_match:
        exponent = int(exponent_match.group("exponent"))
        if abs(exponent) > _MAX_EXPONENT:
            raise QuantityError(value, "exponent %d is out of range" % exponent)
        return Fraction(10) ** exponent
    if suffix[:1] in ".0123456789":
        raise QuantityError(value, "malformed number")
    raise QuantityError(value, "unknown suffix %r" % suffix)


def _parse_string(value):
    text = value
    if not text:
        raise QuantityError(value, "empty value")
    if text != text.strip():
        raise QuantityError(value, "surrounding whitespace is not allowed")
    match = _QUANTITY_RE.match(text)
    if not match:
        raise QuantityError(value, "expected a number with an optional suffix such as 400m, 4Gi or 1.5")
    number = Fraction(match.group("number"))
    result = number * _suffix_multiplier(value, match.group("suffix"))
    return -result if match.group("sign") == "-" else result


def parse_quantity(value, allow_negative=False):
    """Parse a Kubernetes quantity into an exact ``Fraction``.

    Accepts a quantity string (``400m``, ``4Gi``, ``1.5``, ``2e3``), an ``int``, a ``Fraction`` or a
    ``Decimal``, and a ``float`` (as written in YAML, ``cpu: 0.5``: read through its shortest decimal
    representation, so 0.1 is exactly 1/10). Negative values are refused unless ``allow_negative``:
    resource requests and capacities are never negative.
    """
    if value is None:
        raise QuantityError(value, "no value given")
    if isinstance(value, bool):
        raise QuantityError(value, "a boolean is not a quantity")
    if isinstance(value, Fraction):
        result = value
    elif isinstance(value, int):
        result = Fraction(value)
    elif isinstance(value, (float, Decimal)):
        if not math.isfinite(value):
            raise QuantityError(value, "not a finite number")
        result = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    elif isinstance(value, str):
        result = _parse_string(value)
    else:
        raise QuantityError(value, "expected a string or a number, got %s" % type(value).__name__)
    if result < 0 and not allow_negative:
        raise QuantityError(value, "negative quantities are not allowed")
    return result


def _ceil(fraction):
    # -(-a // b) is exact ceiling division on integers, with no float rounding.
    return -(-fraction.numerator // fraction.denominator)


def cpu_millicores(value, allow_negative=False):
    """CPU as integer millicores, rounded up like the scheduler's ``Quantity.MilliValue()``."""
    return _ceil(parse_quantity(value, allow_negative) * 1000)


def memory_bytes(value, allow_negative=False):
    """Memory or storage as integer bytes, rounded up like ``Quantity.Value()``."""
    return _ceil(parse_quantity(value, allow_negative))


def format_cpu(millicores):
    """Canonical CPU string: whole cores without a suffix (``2``), otherwise millicores (``400m``)."""
    millicores = int(millicores)
    if millicores % 1000 == 0:
        return str(millicores // 1000)
    return "%dm" % millicores


def format_bytes(count):
    """Exact canonical byte string: the largest binary suffix that divides the value (``4Gi``),
    else the largest decimal one (``1G``), else plain bytes. Round-trips through ``memory_bytes``."""
    count = int(count)
    sign, magnitude = ("-", -count) if count < 0 else ("", count)
    if magnitude == 0:
        return "0"
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        if magnitude % _BINARY_SUFFIXES[suffix] == 0:
            return "%s%d%s" % (sign, magnitude // _BINARY_SUFFIXES[suffix], suffix)
    for suffix in ("E", "P", "T", "G", "M", "k"):
        multiplier = _DECIMAL_SUFFIXES[suffix].numerator
        if magnitude % multiplier == 0:
            return "%s%d%s" % (sign, magnitude // multiplier, suffix)
    return "%s%d" % (sign, magnitude)


def humanize_bytes(count, precision=1):
    """Approximate byte string for reports (``146.5Gi``): the largest binary unit not above the value."""
    count = int(count)
    magnitude = abs(count)
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        if magnitude >= _BINARY_SUFFIXES[suffix]:
            text = "%.*f" % (precision, Fraction(count, _BINARY_SUFFIXES[suffix]))
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return text + suffix
    return str(count)
