"""Coordinate systems and the accuracy-circle rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehou.attendance import geo


def test_gcj02_round_trip_in_nanchang_is_within_a_centimetre() -> None:
    lat, lng = 28.682, 115.858  # 八一广场, WGS-84
    glat, glng = geo.wgs84_to_gcj02(lat, lng)
    # GCJ-02 moves Nanchang by a few hundred metres (south-east)
    assert 200 < geo.distance_m(lat, lng, glat, glng) < 700
    back = geo.gcj02_to_wgs84(glat, glng)
    assert geo.distance_m(lat, lng, *back) < 0.01


@given(st.floats(18.0, 53.0), st.floats(74.0, 134.0))
def test_gcj02_inverse_everywhere_in_china(lat: float, lng: float) -> None:
    back = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lat, lng))
    assert geo.distance_m(lat, lng, *back) < 0.05


def test_outside_china_gcj02_is_wgs84() -> None:
    assert geo.wgs84_to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)
    assert geo.to_wgs84(48.8566, 2.3522, "gcj02") == (48.8566, 2.3522)


def test_distance_of_one_degree_of_latitude() -> None:
    assert geo.distance_m(28.0, 115.0, 29.0, 115.0) == pytest.approx(111_195, rel=1e-3)


@pytest.mark.parametrize(
    ("distance", "accuracy", "outcome"),
    [
        (100, 50, "inside"),  # 150 ≤ 300
        (250, 50, "inside"),  # exactly 300
        (280, 50, "uncertain"),  # the circle crosses the edge
        (350, 50, "uncertain"),  # 350 − 50 = 300 is not beyond the radius
        (351, 50, "outside"),
        (10, 400, "uncertain"),  # a point at the gate with a 400 m circle proves nothing
    ],
)
def test_the_accuracy_circle_decides(distance: float, accuracy: float, outcome: str) -> None:
    assert geo.judge(distance, accuracy, 300) == outcome
