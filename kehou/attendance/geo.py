"""Where a check-in was taken, in one coordinate system, and how far from the school.

Phones give WGS-84; Chinese map SDKs (AMap, Tencent) give GCJ-02, the obfuscated system every published map of China
uses. The client says which it sent (``crs``); the server converts, never the client. GCJ-02 → WGS-84 has no closed
form: the forward transform (the published algorithm, also in coordtransform and eviltransform, whose packages have
not been kept since 2018-19) is inverted by fixed-point iteration to well under a centimetre. Outside mainland China
GCJ-02 equals WGS-84. Distances are great-circle (haversine on a 6,371,008.8 m sphere): under 0.5 % off the ellipsoid,
a metre or two at a school's radius.
"""

from __future__ import annotations

import math
from enum import StrEnum

EARTH_RADIUS_M = 6_371_008.8
_A = 6_378_245.0  # Krasovsky 1940, as the GCJ-02 algorithm uses
_EE = 0.006_693_421_622_965_943


class Crs(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"


def out_of_china(lat: float, lng: float) -> bool:
    return not (0.8293 <= lat <= 55.8271 and 72.004 <= lng <= 137.8347)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if out_of_china(lat, lng):
        return lat, lng
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 image is (lat, lng), by fixed-point iteration (converges to < 1e-9°)."""
    if out_of_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _ in range(30):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < 1e-10 and abs(dlng) < 1e-10:
            break
    return wlat, wlng


def to_wgs84(lat: float, lng: float, crs: Crs | str) -> tuple[float, float]:
    return gcj02_to_wgs84(lat, lng) if Crs(crs) is Crs.GCJ02 else (lat, lng)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def judge(distance: float, accuracy: float, radius: float) -> str:
    """From the accuracy circle, not the point: inside when the whole circle is within the radius, outside when
    none of it is, uncertain otherwise."""
    if distance + accuracy <= radius:
        return "inside"
    if distance - accuracy > radius:
        return "outside"
    return "uncertain"
