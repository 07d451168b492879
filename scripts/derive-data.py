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
The output is sorted and deterministic, so re-running it yields no diff.
"""
import csv
import os
import sys

SOURCE = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "data")
OUT = "data"
NEIGHBOURS = {"KZ", "KG", "UZ", "TM", "TJ", "RU", "MN", "CN"}
CENTRAL_ASIA = {"KZ", "KG", "UZ", "TM", "TJ"}


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
            ])
    rows.sort(key=lambda row: (-int(row[8]), row[0]))
    with open(os.path.join(OUT, "kz_cities.tsv"), "w", encoding="utf-8", newline="") as f:
        f.write("geonameid\tname\tname_ru\tname_kk\talt_latin\talt_cyrillic\tlatitude\tlongitude\tpopulation\tregion\n")
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
            ])
    rows.sort(key=lambda row: (-int(row[7]), row[0]))
    with open(os.path.join(OUT, "region_cities.tsv"), "w", encoding="utf-8", newline="") as f:
        f.write("geonameid\tname\tname_ru\talt_latin\talt_cyrillic\tlatitude\tlongitude\tpopulation\tregion\tcountry\n")
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


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    print(f"kz_cities.tsv: {cities()} places; region_cities.tsv: {region_cities()} places; "
          f"airports.csv: {airports()} airports")
