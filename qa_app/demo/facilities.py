"""Facilities for generated data: stations, district centres, hospitals, private clinics and pharmacies (pure)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from . import names
from .geography import Geography, NewCommune, ProvinceGeo, UnitKey

# Methods each type offers for sure, and those it offers with a probability (domain.md §a.2).
ALWAYS = {"TYT": ("BCS", "TT", "VU"), "TTYT": ("BCS", "DCTC", "QC", "TT", "VU"),
          "BV": ("BCS", "DCTC", "QC", "TT", "VU"), "PK": ("BCS", "VU"), "NT": ("BCS", "VU")}
SOMETIMES = {"TYT": (("DCTC", 0.85), ("QC", 0.35)), "TTYT": (("TS", 0.6),), "BV": (("TS", 0.9),),
             "PK": (("DCTC", 0.9), ("TT", 0.8), ("QC", 0.5), ("TS", 0.03)), "NT": ()}
WATER_SOURCES = ("Nước máy", "Nước máy", "Giếng khoan", "Giếng đào", "Nước tự chảy từ khe suối, có bể lọc",
                 "Nước mưa, có bể chứa", "Nước máy; dự phòng giếng khoan")


@dataclass
class FacilitySpec:
    """One facility to insert, with the hidden traits that drive its generated inspections."""

    code: str
    name: str
    type: str
    ownership: str
    unit: UnitKey
    legacy: UnitKey
    district: UnitKey  # pre-2025 district: who inspects and who reviews
    province: int  # index into Geography.provinces
    active_from: dt.date
    active_to: dt.date | None
    address: str
    phone: str
    head_name: str
    high_fertility: bool
    services: tuple[str, ...]
    # Services before a method was added (e.g. implants from 2023); None when they never changed.
    services_before: tuple[str, ...] | None = None
    services_changed_on: dt.date | None = None
    # Hidden traits: quality offset on the probability of "met", inspection cadence, informational answers.
    quality: float = 0.0
    cadence: str = "yearly"  # yearly | biennial | never
    traits: dict[str, object] = field(default_factory=dict)
    # A sub-station (điểm trạm): the code of the commune station it has belonged to since the reform.
    parent: str | None = None

    def is_active(self, on: dt.date) -> bool:
        """Whether the facility operated on ``on``."""
        return self.active_from <= on and (self.active_to is None or self.active_to >= on)

    def services_on(self, day: dt.date) -> tuple[str, ...]:
        """The methods offered on ``day`` (what an inspection snapshots)."""
        if self.services_changed_on is not None and day < self.services_changed_on and self.services_before:
            return self.services_before
        return self.services


def _services(rng: random.Random, ftype: str) -> tuple[str, ...]:
    chosen = set(ALWAYS[ftype])
    for service, share in SOMETIMES[ftype]:
        if rng.random() < share:
            chosen.add(service)
    return tuple(sorted(chosen))


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _traits(rng: random.Random, remote: bool) -> dict[str, object]:
    # Mountain communes are far from the referral hospital and the roads are slow.
    distance = round(rng.uniform(8, 65) if remote else rng.uniform(0.5, 12), 1)
    minutes = int(distance * rng.uniform(2.0, 3.5) + rng.randint(5, 15)) if remote else int(distance * 2 + 5)
    return {"distance_km": distance, "travel_minutes": minutes, "water": rng.choice(WATER_SOURCES)}


def _common(rng: random.Random, spec: FacilitySpec, never_share: float, biennial_share: float) -> FacilitySpec:
    spec.quality = max(-0.12, min(0.12, rng.gauss(0.0, 0.045)))
    draw = rng.random()
    spec.cadence = "never" if draw < never_share else "biennial" if draw < never_share + biennial_share else "yearly"
    return spec


def main_predecessor(province: ProvinceGeo, commune: NewCommune) -> UnitKey:
    """The old commune whose station stays the legal station of the 2025 commune (same name, else same code)."""
    same_name = [k for k in commune.predecessors if province.old_name[k].endswith(" " + commune.bare_name)]
    same_code = [k for k in commune.predecessors if k[2] == commune.key[2]]
    return (same_name or same_code or commune.predecessors)[0]


def _sub_stations(seed: int, geo: Geography, stations: list[FacilitySpec], never_share: float,
                  biennial_share: float) -> list[FacilitySpec]:
    """The old communes' stations, sub-stations (điểm trạm) of their new commune's station since July 2025.

    They offer the non-clinical methods and are inspected on their own; their own random stream, so adding
    them changes nothing else in the data set.
    """
    main = {(f.province, f.unit): f for f in stations if f.type == "TYT" and f.parent is None}
    out: list[FacilitySpec] = []
    for p_index, province in enumerate(geo.provinces):
        rng = random.Random(f"{seed}/sub-stations/{province.key[2]}")
        for commune in province.communes:
            station = main.get((p_index, commune.key))
            if station is None:
                continue
            for old in commune.predecessors:
                if old == station.legacy:
                    continue
                spec = FacilitySpec(
                    code=f"DT-{old[2]}-{commune.key[2]}", name=f"Điểm trạm y tế {province.old_name[old]}",
                    type="TYT", ownership="public", unit=commune.key, legacy=old,
                    district=province.old_district_of[old], province=p_index, active_from=station.active_from,
                    active_to=None, address=f"{province.old_name[old]}, {_commune_label(commune)}",
                    phone=station.phone, head_name=station.head_name, high_fertility=station.high_fertility,
                    services=("BCS", "TT", "VU"), traits=_traits(rng, commune.urban < 0.5), parent=station.code)
                out.append(_common(rng, spec, never_share, biennial_share))
    return out


def _commune_label(commune: NewCommune) -> str:
    return f"{commune.kind.lower()} {commune.bare_name}"


def build_facilities(geo: Geography, seed: int, *, public_hospitals: int, private_hospitals: int, clinics: int,
                     pharmacies: int, never_share: float, biennial_share: float, recent_open_share: float,
                     closed_share: float, ethnic_share: float, today: dt.date) -> list[FacilitySpec]:
    """Every facility of every province, in a stable order (province, then type, then code)."""
    out: list[FacilitySpec] = []
    n_prov = len(geo.provinces)
    for p_index, province in enumerate(geo.provinces):
        rng = random.Random(f"{seed}/facilities/{province.key[2]}")
        out += _province_facilities(
            rng, province, p_index, public_hospitals=max(1, _share(public_hospitals, p_index, n_prov)),
            private_hospitals=_share(private_hospitals, p_index, n_prov),
            clinics=_share(clinics, p_index, n_prov), pharmacies=_share(pharmacies, p_index, n_prov),
            never_share=never_share, biennial_share=biennial_share, ethnic_share=ethnic_share)
    _open_and_close(random.Random(f"{seed}/lifecycle"), out, recent_open_share, closed_share, today)
    return out + _sub_stations(seed, geo, out, never_share, biennial_share)


def _share(total: int, index: int, parts: int) -> int:
    """Province ``index``'s share of ``total`` spread evenly over ``parts`` provinces."""
    return total // parts + (1 if index < total % parts else 0)


def _province_facilities(rng: random.Random, province: ProvinceGeo, p_index: int, *, public_hospitals: int,
                         private_hospitals: int, clinics: int, pharmacies: int, never_share: float,
                         biennial_share: float, ethnic_share: float) -> list[FacilitySpec]:
    prov_label = f"{province.kind.lower()} {province.bare_name}"
    code = province.key[2]
    out: list[FacilitySpec] = []
    # Commune health stations: one per 2025 commune, recorded against the old commune it served.
    for commune in province.communes:
        legacy = main_predecessor(province, commune)
        services = _services(rng, "TYT")
        spec = FacilitySpec(
            code=f"TYT-{commune.key[2]}", name=f"Trạm Y tế {_commune_label(commune)}", type="TYT",
            ownership="public", unit=commune.key, legacy=legacy, district=province.old_district_of[legacy],
            province=p_index, active_from=_date_between(rng, dt.date(1995, 1, 1), dt.date(2012, 12, 31)),
            active_to=None,
            address=f"{names.hamlet(rng)}, {_commune_label(commune)}, {prov_label}",
            phone=names.landline(rng, province.area_code), head_name=names.person(rng, ethnic_share),
            high_fertility=commune.kind == "Xã" and rng.random() < province.high_fertility_share,
            services=services, traits=_traits(rng, commune.urban < 0.5))
        if "QC" in services and rng.random() < 0.4:
            # Implants came later to many stations, once a midwife was trained.
            spec.services_before = tuple(s for s in services if s != "QC")
            spec.services_changed_on = _date_between(rng, dt.date(2022, 1, 1), dt.date(2025, 6, 30))
        out.append(_common(rng, spec, never_share, biennial_share))
    seat_commune = {c.key: c for c in province.communes}
    # District health centres: one per pre-2025 district, in the commune of the district town.
    for district in province.districts:
        commune = seat_commune[district.seat]
        out.append(_common(rng, FacilitySpec(
            code=f"TTYT-{district.key[2]}", name=f"Trung tâm Y tế {district.kind.lower()} {district.bare_name}",
            type="TTYT", ownership="public", unit=district.seat, legacy=district.key, district=district.key,
            province=p_index, active_from=_date_between(rng, dt.date(2000, 1, 1), dt.date(2008, 12, 31)),
            active_to=None,
            address=f"{names.street_address(rng)}, {_commune_label(commune)}, {prov_label}",
            phone=names.landline(rng, province.area_code), head_name=names.person(rng, ethnic_share / 2),
            high_fertility=False, services=_services(rng, "TTYT"), traits=_traits(rng, False)),
            never_share, biennial_share))
    # Hospitals and the private sector gather in the wards and district towns.
    capital = province.districts[0]
    hospital_names = [f"Bệnh viện Đa khoa {prov_label}", f"Bệnh viện Sản - Nhi {prov_label}"] + [
        f"Bệnh viện Đa khoa khu vực {d.bare_name}" for d in province.districts[1:]]
    hospital_names += [f"Bệnh viện Đa khoa số {n} {prov_label}" for n in range(2, public_hospitals + 2)]
    for n in range(public_hospitals):
        district = capital if n < 2 else province.districts[min(n - 1, len(province.districts) - 1)]
        out.append(_hospital(rng, province, p_index, district.seat, district.seat_old, district.key,
                             f"BV-{code}-{n + 1:02d}", hospital_names[n], "public", ethnic_share, never_share,
                             biennial_share))
    taken: set[str] = set()
    for n in range(private_hospitals):
        name = names.brand(rng, ("Bệnh viện Đa khoa {}", "Bệnh viện Đa khoa tư nhân {}"), taken)
        commune = _urban_commune(rng, province)
        legacy = rng.choice(commune.predecessors)
        out.append(_hospital(rng, province, p_index, commune.key, legacy, province.old_district_of[legacy],
                             f"BV-{code}-{public_hospitals + n + 1:02d}", name, "non_public", ethnic_share,
                             never_share, biennial_share))
    for ftype, count, patterns in (("PK", clinics, names.CLINIC_PATTERNS), ("NT", pharmacies, names.PHARMACY_PATTERNS)):
        for n in range(count):
            commune = _urban_commune(rng, province)
            legacy = rng.choice(commune.predecessors)
            location = names.street_address(rng) if commune.urban >= 0.5 else names.hamlet(rng)
            out.append(_common(rng, FacilitySpec(
                code=f"{ftype}-{code}-{n + 1:05d}", name=names.brand(rng, patterns, taken), type=ftype,
                ownership="non_public", unit=commune.key, legacy=legacy, district=province.old_district_of[legacy],
                province=p_index, active_from=_date_between(rng, dt.date(2006, 1, 1), dt.date(2020, 12, 31)),
                active_to=None, address=f"{location}, {_commune_label(commune)}, {prov_label}",
                phone=names.mobile(rng), head_name=names.person(rng, ethnic_share / 3), high_fertility=False,
                services=_services(rng, ftype), traits=_traits(rng, commune.urban < 0.5)),
                never_share, biennial_share))
    return out


def _hospital(rng: random.Random, province: ProvinceGeo, p_index: int, unit: UnitKey, legacy: UnitKey,
              district: UnitKey, code: str, name: str, ownership: str, ethnic_share: float, never_share: float,
              biennial_share: float) -> FacilitySpec:
    commune = next(c for c in province.communes if c.key == unit)
    services = _services(rng, "BV")
    if ownership == "non_public" and rng.random() < 0.5:
        services = tuple(s for s in services if s != "TS")
    return _common(rng, FacilitySpec(
        code=code, name=name, type="BV", ownership=ownership, unit=unit, legacy=legacy, district=district,
        province=p_index, active_from=_date_between(rng, dt.date(1990, 1, 1), dt.date(2015, 12, 31)),
        active_to=None,
        address=f"{names.street_address(rng)}, {_commune_label(commune)}, {province.kind.lower()} {province.bare_name}",
        phone=names.landline(rng, province.area_code), head_name=names.person(rng, ethnic_share / 3),
        high_fertility=False, services=services, traits=_traits(rng, False)), never_share, biennial_share)


def _urban_commune(rng: random.Random, province: ProvinceGeo) -> NewCommune:
    return rng.choices(province.communes, weights=[c.urban for c in province.communes])[0]


def _open_and_close(rng: random.Random, facilities: list[FacilitySpec], recent_open_share: float,
                    closed_share: float, today: dt.date) -> None:
    """Open a few private facilities in 2023–2024 and close a few, the first of them in 2025."""
    private = [f for f in facilities if f.ownership == "non_public" and f.type in ("PK", "NT")]
    if not private:
        return
    opened = rng.sample(private, max(1, round(recent_open_share * len(private))))
    for spec in opened:
        spec.active_from = _date_between(rng, dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    opened_codes = {spec.code for spec in opened}
    rest = [f for f in private if f.code not in opened_codes]
    candidates = [f for f in rest if f.type == "NT"] or rest
    if not candidates:
        return
    closed = rng.sample(candidates, min(len(candidates), max(1, round(closed_share * len(private)))))
    for index, spec in enumerate(closed):
        # The first closure falls in 2025 (when "today" allows it), the others anywhere in the history.
        start, end = (dt.date(2025, 1, 1), dt.date(2025, 12, 31)) if index == 0 else (dt.date(2021, 6, 1), today)
        end = min(end, today)
        if start > end:
            start = end - dt.timedelta(days=365)
        spec.active_to = max(spec.active_from, _date_between(rng, start, end))
