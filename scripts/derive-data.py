#!/usr/bin/env python3
"""Derive the reference data evac ships from ../shared/data (standard library only).

Run from the repository root:  python3 scripts/derive-data.py [SHARED_DATA_DIR]

Writes into data/:
  kz_cities.tsv   Kazakh populated places with population >= 20,000 or a region seat:
                  GeoNames id, Latin name, Russian name, Kazakh-alphabet name, other Latin and
                  Cyrillic names, coordinates, population, region. (GeoNames, CC BY 4.0:
                  derived from GeoNames: filtered and columns re-arranged.)
  region_cities.tsv  Towns of the neighbouring countries with population >= 100,000 or a
                  capital: GeoNames id, Latin and Russian names, other Latin and Cyrillic
                  names, coordinates, population, region, country. (GeoNames, CC BY 4.0:
                  derived from GeoNames: filtered and columns re-arranged.)
  airports.csv    Airports of the KZ region with scheduled service, plus every large and
                  medium airport of Kazakhstan and its Central Asian neighbours
                  (OurAirports, public domain; snapshot of 2022-10-11).
  map.tsv         SVG paths of Kazakhstan and its neighbours for the desk's map: Natural
                  Earth 1:50m countries (public domain), clamped to the map's frame, projected
                  (equirectangular, scaled by the cosine of the frame's middle latitude), simplified
                  (Douglas-Peucker) and
                  rounded to whole units of the 1000-wide view box; the first line gives the
                  projection.
The output is sorted and deterministic, so re-running it yields no diff.
"""
import csv
import json
import math
import os
import sys

SOURCE = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "data")
OUT = "data"
NEIGHBOURS = {"KZ", "KG", "UZ", "TM", "TJ", "RU", "MN", "CN"}
CENTRAL_ASIA = {"KZ", "KG", "UZ", "TM", "TJ"}


def other_scripts(r):
    """Names in Arabic script and Chinese characters (reports in Arabic, Persian, Uyghur and
    Chinese name towns so), wholly in one of them: at most 8 Chinese (the Natural Earth name
    first) and 12 Arabic-script names."""
    def arabic(c):
        return "\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f"

    def chinese(c):
        return "\u4e00" <= c <= "\u9fff"

    names = [r["ne_name_zh"]] + r["alt_other_scripts"].split("|")
    kept = []
    for n in names:
        n = n.strip()
        letters = [c for c in n if not c.isspace()]
        if len(letters) < 2 or n in kept:
            continue
        if all(arabic(c) for c in letters) or all(chinese(c) for c in letters):
            kept.append(n)
    hanzi = [n for n in kept if chinese(n[0])][:8]
    arabic_names = [n for n in kept if not chinese(n[0])][:12]
    return "|".join(hanzi + arabic_names)


def cities():
    path = os.path.join(SOURCE, "gazetteer", "geonames_places_kz_region.tsv")
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        for r in reader:
            if r["country_code"] != "KZ":
                continue
            population = int(r["population"] or 0)
            seat = r["feature_code"] in ("PPLC", "PPLA")
            if population < 20000 and not seat:
                continue
            cyrillic = [n for n in r["alt_cyrillic"].split("|") if n]
            # Some GeoNames entries mix scripts ("Nұr-Sұltan"); keep only wholly Cyrillic ones.
            kazakh = [n for n in r["alt_cyrillic_nonrussian_letters"].split("|")
                      if n and not any("a" <= c.lower() <= "z" for c in n)]
            russian = r["ne_name_ru"] or next((n for n in cyrillic if n not in kazakh), "")
            latin = [n for n in r["alt_latin"].split("|") if n and not (len(n) == 3 and n.isupper())]
            rows.append([
                r["geonameid"], r["name"], russian, kazakh[0] if kazakh else "",
                "|".join(latin[:12]), "|".join(cyrillic[:12]),
                r["latitude"], r["longitude"], str(population), r["admin1_name"],
                other_scripts(r),
            ])
    rows.sort(key=lambda row: (-int(row[8]), row[0]))
    with open(os.path.join(OUT, "kz_cities.tsv"), "w", encoding="utf-8", newline="") as f:
        f.write("geonameid\tname\tname_ru\tname_kk\talt_latin\talt_cyrillic\tlatitude\tlongitude\tpopulation\tregion\talt_other\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    return len(rows)


def region_cities():
    """Towns of the neighbouring countries (population >= 100,000, or a capital): where evacuees
    travel to and what reports name (Moscow, Bishkek, Tashkent, Novosibirsk)."""
    path = os.path.join(SOURCE, "gazetteer", "geonames_places_kz_region.tsv")
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        for r in reader:
            if r["country_code"] == "KZ":
                continue
            population = int(r["population"] or 0)
            if population < 100000 and r["feature_code"] != "PPLC":
                continue
            cyrillic = [n for n in r["alt_cyrillic"].split("|") if n
                        and not any("a" <= c.lower() <= "z" for c in n)]
            russian = r["ne_name_ru"] or (cyrillic[0] if cyrillic else "")
            latin = [n for n in r["alt_latin"].split("|") if n and not (len(n) == 3 and n.isupper())]
            rows.append([
                r["geonameid"], r["name"], russian, "|".join(latin[:24]), "|".join(cyrillic[:24]),
                r["latitude"], r["longitude"], str(population), r["admin1_name"], r["country_code"],
                other_scripts(r),
            ])
    rows.sort(key=lambda row: (-int(row[7]), row[0]))
    with open(os.path.join(OUT, "region_cities.tsv"), "w", encoding="utf-8", newline="") as f:
        f.write("geonameid\tname\tname_ru\talt_latin\talt_cyrillic\tlatitude\tlongitude\tpopulation\tregion\tcountry\talt_other\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    return len(rows)


def airports():
    path = os.path.join(SOURCE, "airports", "ourairports_kz_region.csv")
    keep = []
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["iso_country"] not in NEIGHBOURS:
                continue
            scheduled = r["scheduled_service"] == "yes" and r["iata_code"]
            regional = r["iso_country"] in CENTRAL_ASIA and r["type"] in ("large_airport", "medium_airport")
            if not (scheduled or regional):
                continue
            keep.append([r["ident"], r["type"], r["name"], r["latitude_deg"], r["longitude_deg"], r["iso_country"],
                         r["municipality"], r["gps_code"], r["iata_code"], r["scheduled_service"]])
    keep.sort(key=lambda row: (row[5] != "KZ", row[5], row[0]))
    with open(os.path.join(OUT, "airports.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["ident", "type", "name", "latitude", "longitude", "country", "municipality", "icao", "iata", "scheduled"])
        w.writerows(keep)
    return len(keep)


# The map's frame (degrees) and view box: Kazakhstan and its neighbours.
MAP_LON_MIN, MAP_LON_MAX, MAP_LAT_MIN, MAP_LAT_MAX = 44.0, 90.0, 35.0, 57.0
MAP_WIDTH = 1000.0
MAP_COUNTRIES = {"KAZ", "RUS", "CHN", "KGZ", "UZB", "TKM", "TJK", "MNG", "AFG", "IRN", "AZE"}


MAP_SIMPLIFY_UNITS = 1.5  # Douglas-Peucker tolerance, in view-box units


def simplify(points, tolerance):
    """Douglas-Peucker: drop points closer than `tolerance` to the line of their neighbours."""
    if len(points) < 4:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1e-9
        far, far_at = 0.0, None
        for i in range(first + 1, last):
            x, y = points[i]
            d = abs(dy * (x - x1) - dx * (y - y1)) / length
            if d > far:
                far, far_at = d, i
        if far_at is not None and far > tolerance:
            keep[far_at] = True
            stack += [(first, far_at), (far_at, last)]
    return [p for p, k in zip(points, keep) if k]


def map_paths():
    cos = math.cos(math.radians((MAP_LAT_MIN + MAP_LAT_MAX) / 2))
    scale = MAP_WIDTH / ((MAP_LON_MAX - MAP_LON_MIN) * cos)
    height = round((MAP_LAT_MAX - MAP_LAT_MIN) * scale, 1)

    def project(lon, lat):
        lon = min(max(lon, MAP_LON_MIN - 1), MAP_LON_MAX + 1)
        lat = min(max(lat, MAP_LAT_MIN - 1), MAP_LAT_MAX + 1)
        return round((lon - MAP_LON_MIN) * cos * scale), round((MAP_LAT_MAX - lat) * scale)

    path = os.path.join(SOURCE, "boundaries", "ne_countries_50m.geojson")
    with open(path, encoding="utf-8") as f:
        features = json.load(f)["features"]
    rows = []
    for feature in features:
        code = feature["properties"]["adm0_a3"]
        if code not in MAP_COUNTRIES:
            continue
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        parts = []
        for polygon in polygons:
            for ring in polygon:
                points = []
                for lon, lat in ring:
                    p = project(lon, lat)
                    if not points or points[-1] != p:
                        points.append(p)
                # A ring starts where it ends: simplify its two halves as open lines.
                half = len(points) // 2
                points = (simplify(points[: half + 1], MAP_SIMPLIFY_UNITS)[:-1]
                          + simplify(points[half:], MAP_SIMPLIFY_UNITS))
                xs = {x for x, _ in points}
                ys = {y for _, y in points}
                if len(points) < 3 or len(xs) < 2 or len(ys) < 2:
                    continue  # wholly outside the frame: clamped to a line or a point
                parts.append("M" + "L".join(f"{x:g} {y:g}" for x, y in points) + "Z")
        if parts:
            rows.append((code, feature["properties"]["name"], "".join(parts)))
    rows.sort()
    with open(os.path.join(OUT, "map.tsv"), "w", encoding="utf-8", newline="") as f:
        f.write(f"# lon_min={MAP_LON_MIN} lat_max={MAP_LAT_MAX} cos={cos:.6f} scale={scale:.6f} width={MAP_WIDTH:g} height={height:g}\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    return len(rows)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    print(f"kz_cities.tsv: {cities()} places; region_cities.tsv: {region_cities()} places; "
          f"airports.csv: {airports()} airports; map.tsv: {map_paths()} countries")
