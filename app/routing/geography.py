"""How far apart two countries are, for "the nearest responder abroad".

Each country is one point, its capital; the distance is the great-circle distance between
the two capitals. Coarse on purpose: the caller's number gives their country, not where in
it they are, and the directory gives a responder's country, not its city. The table holds
the ten countries the hotline serves and the neighbours and destinations a directory is
likely to list; a country missing from it has no known distance and is ranked after every
country that has one.
"""

from functools import cache
from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0

# ISO 3166-1 alpha-2 -> (latitude, longitude) of the capital, in degrees.
CAPITALS: dict[str, tuple[float, float]] = {
    # the ten countries served
    "AF": (34.53, 69.17),   # Kabul
    "AZ": (40.41, 49.87),   # Baku
    "IR": (35.69, 51.39),   # Tehran
    "KG": (42.87, 74.59),   # Bishkek
    "KZ": (51.17, 71.45),   # Astana
    "RU": (55.76, 37.62),   # Moscow
    "TJ": (38.56, 68.77),   # Dushanbe
    "TM": (37.95, 58.38),   # Ashgabat
    "TR": (39.93, 32.86),   # Ankara
    "UZ": (41.30, 69.24),   # Tashkent
    # neighbours and common destinations
    "AE": (24.45, 54.38),   # Abu Dhabi
    "AM": (40.18, 44.51),   # Yerevan
    "BY": (53.90, 27.57),   # Minsk
    "CN": (39.90, 116.40),  # Beijing
    "DE": (52.52, 13.40),   # Berlin
    "GB": (51.51, -0.13),   # London
    "GE": (41.72, 44.79),   # Tbilisi
    "IN": (28.61, 77.21),   # New Delhi
    "IQ": (33.31, 44.36),   # Baghdad
    "KR": (37.57, 126.98),  # Seoul
    "MN": (47.89, 106.91),  # Ulaanbaatar
    "PK": (33.68, 73.05),   # Islamabad
    "PL": (52.23, 21.01),   # Warsaw
    "QA": (25.29, 51.53),   # Doha
    "SA": (24.71, 46.68),   # Riyadh
    "UA": (50.45, 30.52),   # Kyiv
}


@cache
def distance_km(a: str | None, b: str | None) -> float | None:
    """Great-circle distance between the capitals of countries ``a`` and ``b``; 0 for the
    same country, None when either is unknown or missing from ``CAPITALS``."""
    if a is None or b is None:
        return None
    if a == b:
        return 0.0
    if a not in CAPITALS or b not in CAPITALS:
        return None
    (lat1, lon1), (lat2, lon2) = ((radians(lat), radians(lon))
                                  for lat, lon in (CAPITALS[a], CAPITALS[b]))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(h))
