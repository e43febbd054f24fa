"""Administrative units for generated data: the real Lai Châu, or synthetic provinces of any size (pure)."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass, field

from . import laichau
from .names import place_name

UnitKey = tuple[str, str, str]  # (system, level, code): a code alone is ambiguous across the two systems

PRE_VALID_TO = dt.date(2025, 6, 30)
NEW_VALID_FROM = dt.date(2025, 7, 1)

_EN_KINDS = {"Tỉnh": "Province", "Thành phố": "City", "Huyện": "District", "Quận": "District",
             "Thị xã": "Town", "Xã": "Commune", "Phường": "Ward", "Thị trấn": "Township", "Đặc khu": "Special Zone"}


def ascii_name(text: str) -> str:
    """Vietnamese text without diacritics ('Đoàn Kết' -> 'Doan Ket')."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


@dataclass
class UnitSpec:
    """One unit to insert; parents always come before their children in Geography.units."""

    system: str
    level: str
    code: str
    kind: str
    bare_name: str
    parent: UnitKey | None

    @property
    def key(self) -> UnitKey:
        """(system, level, code)."""
        return (self.system, self.level, self.code)

    @property
    def name(self) -> str:
        """Official name with its kind, as the government lists write it ('Xã Bản Giang')."""
        return f"{self.kind} {self.bare_name}"

    @property
    def name_en(self) -> str:
        """English name without diacritics ('Ban Giang Commune')."""
        return f"{ascii_name(self.bare_name)} {_EN_KINDS.get(self.kind, '')}".strip()

    @property
    def valid(self) -> tuple[dt.date | None, dt.date | None]:
        """Validity dates: pre-2025 units end the day before the reform, 2025 units start on it."""
        return (None, PRE_VALID_TO) if self.system == "pre2025" else (NEW_VALID_FROM, None)


@dataclass
class NewCommune:
    """A 2025 commune and the pre-2025 communes it absorbed (wholly or in part)."""

    key: UnitKey
    kind: str
    bare_name: str
    predecessors: list[UnitKey]
    # How attractive the place is for private clinics and pharmacies (towns and wards draw them).
    urban: float = 0.3


@dataclass
class OldDistrict:
    """A pre-2025 district, with the 2025 commune its district health centre now sits in."""

    key: UnitKey
    kind: str
    bare_name: str
    seat: UnitKey  # the 2025 commune of the district town
    seat_old: UnitKey  # the pre-2025 commune of the district town


@dataclass
class ProvinceGeo:
    """One 2025 province with what facility generation needs."""

    key: UnitKey
    kind: str
    bare_name: str
    area_code: str
    communes: list[NewCommune] = field(default_factory=list)
    districts: list[OldDistrict] = field(default_factory=list)
    old_district_of: dict[UnitKey, UnitKey] = field(default_factory=dict)  # old commune -> its district
    old_name: dict[UnitKey, str] = field(default_factory=dict)  # old commune -> "xã Nùng Nàng"
    high_fertility_share: float = 0.5


@dataclass
class Geography:
    """Units of both systems, the old-to-new successions and the per-province view."""

    units: list[UnitSpec] = field(default_factory=list)
    successions: list[tuple[UnitKey, UnitKey, bool]] = field(default_factory=list)
    provinces: list[ProvinceGeo] = field(default_factory=list)


def lai_chau() -> Geography:
    """The real Lai Châu: 8 districts and 106 communes before the reform, 38 communes after."""
    geo = Geography()
    code, kind, name = laichau.PROVINCE
    old_prov = UnitSpec("pre2025", "province", code, kind, name, None)
    new_prov = UnitSpec("2025", "province", code, kind, name, None)
    geo.units += [old_prov, new_prov]
    districts = {}
    for d_code, d_kind, d_name in laichau.DISTRICTS:
        spec = UnitSpec("pre2025", "district", d_code, laichau.KINDS[d_kind], d_name, old_prov.key)
        geo.units.append(spec)
        districts[d_code] = spec
    province = ProvinceGeo(new_prov.key, kind, name, "0213", high_fertility_share=0.9)
    old_kind: dict[UnitKey, str] = {}
    for c_code, d_code, c_kind, c_name in laichau.old_communes():
        spec = UnitSpec("pre2025", "commune", c_code, laichau.KINDS[c_kind], c_name, districts[d_code].key)
        geo.units.append(spec)
        province.old_district_of[spec.key] = districts[d_code].key
        province.old_name[spec.key] = f"{spec.kind.lower()} {c_name}"
        old_kind[spec.key] = spec.kind
    successor: dict[UnitKey, UnitKey] = {}
    for c_code, c_kind, c_name, olds in laichau.new_communes():
        spec = UnitSpec("2025", "commune", c_code, laichau.KINDS[c_kind], c_name, new_prov.key)
        geo.units.append(spec)
        preds = [("pre2025", "commune", o) for o in olds]
        for old in preds:
            geo.successions.append((old, spec.key, True))
            successor[old] = spec.key
        # Wards of the provincial city and former district towns draw the private sector.
        urban = 1.0 if spec.kind == "Phường" else 0.5 if any(old_kind[o] == "Thị trấn" for o in preds) else 0.06
        province.communes.append(NewCommune(spec.key, spec.kind, c_name, preds, urban))
    for d_code, d_kind, d_name in laichau.DISTRICTS:
        d_key = districts[d_code].key
        members = [k for k, d in province.old_district_of.items() if d == d_key]
        # The district town: its thị trấn, or for the provincial city its first ward.
        seat_old = next((k for k in members if old_kind[k] == "Thị trấn"), members[0])
        province.districts.append(
            OldDistrict(d_key, laichau.KINDS[d_kind], d_name, successor[seat_old], seat_old))
    geo.provinces.append(province)
    return geo


def _split(total: int, parts: int, rng: random.Random, jitter: float = 0.25) -> list[int]:
    """Split ``total`` into ``parts`` positive integers of roughly equal size."""
    if parts <= 0:
        return []
    if total < parts:
        raise ValueError(f"cannot split {total} into {parts} non-empty parts")
    weights = [1.0 + rng.uniform(-jitter, jitter) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    sizes = [1 + int(w * scale) for w in weights]
    # Hand the rounding remainder out one by one, largest weights first, so the sum is exact.
    order = sorted(range(parts), key=lambda i: -weights[i])
    for i in range(total - sum(sizes)):
        sizes[order[i % parts]] += 1
    return sizes


def synthetic(rng: random.Random, provinces: int, old_provinces: int, districts: int, old_communes: int,
              communes: int, split_share: float = 0.03) -> Geography:
    """Synthetic units with the shape of the 2025 reform: old provinces and communes merged into fewer new ones."""
    if not provinces <= old_provinces <= districts <= old_communes or communes > old_communes:
        raise ValueError("need provinces <= old_provinces <= districts <= old_communes and communes <= old_communes")
    if communes < provinces:
        raise ValueError("need at least one 2025 commune per province")
    geo = Geography()
    prov_names: set[str] = set()
    old_groups = _split(old_provinces, provinces, rng, 0.5)
    districts_per_old = _split(districts, old_provinces, rng)
    communes_per_district = _split(old_communes, districts, rng)
    # Spread codes over the real 2-, 3- and 5-digit spaces, gaps included, as the official lists do.
    old_prov_codes = [f"{2 + (i * 94) // old_provinces:02d}" for i in range(old_provinces)]
    old_index = district_index = commune_index = 0
    old_per_new: list[list[UnitKey]] = []
    old_kind: dict[UnitKey, str] = {}
    bare_names: dict[UnitKey, str] = {}
    new_provs: list[ProvinceGeo] = []
    for p in range(provinces):
        group_specs: list[UnitSpec] = []
        members: list[UnitKey] = []
        province_geo: ProvinceGeo | None = None
        seats: list[tuple[UnitSpec, UnitKey]] = []
        for g in range(old_groups[p]):
            o_name = place_name(rng, prov_names)
            o_code = old_prov_codes[old_index]
            o_spec = UnitSpec("pre2025", "province", o_code, "Tỉnh", o_name, None)
            geo.units.append(o_spec)
            if g == 0:
                # The merged province keeps the code and name of one predecessor, as in Resolution 202/2025.
                n_spec = UnitSpec("2025", "province", o_code, "Tỉnh", o_name, None)
                group_specs.append(n_spec)
                province_geo = ProvinceGeo(n_spec.key, "Tỉnh", o_name, f"02{int(o_code):02d}",
                                           high_fertility_share=rng.choice((0.1, 0.3, 0.5, 0.8)))
            district_names: set[str] = set()
            for d in range(districts_per_old[old_index]):
                district_index += 1
                d_kind = "Thành phố" if d == 0 else "Huyện"
                d_spec = UnitSpec("pre2025", "district", f"{district_index:03d}", d_kind,
                                  place_name(rng, district_names), o_spec.key)
                geo.units.append(d_spec)
                commune_names: set[str] = set()
                for c in range(communes_per_district[district_index - 1]):
                    commune_index += 1
                    if d == 0:
                        c_kind = "Phường" if c < max(1, communes_per_district[district_index - 1] * 2 // 3) else "Xã"
                    else:
                        c_kind = "Thị trấn" if c == 0 else "Xã"
                    c_spec = UnitSpec("pre2025", "commune", f"{commune_index * 3:05d}", c_kind,
                                      place_name(rng, commune_names), d_spec.key)
                    geo.units.append(c_spec)
                    members.append(c_spec.key)
                    bare_names[c_spec.key] = c_spec.bare_name
                    old_kind[c_spec.key] = c_kind
                    assert province_geo is not None
                    province_geo.old_district_of[c_spec.key] = d_spec.key
                    province_geo.old_name[c_spec.key] = f"{c_kind.lower()} {c_spec.bare_name}"
                    if c == 0:
                        seats.append((d_spec, c_spec.key))
            old_index += 1
        assert province_geo is not None
        geo.units.extend(group_specs)
        old_per_new.append(members)
        new_provs.append(province_geo)
        province_geo.districts = [OldDistrict(d.key, d.kind, d.bare_name, ("", "", ""), seat) for d, seat in seats]
    # 2025 communes: each province gets a share of them in proportion to its old communes.
    sizes = [len(m) for m in old_per_new]
    new_counts = [max(1, round(communes * s / old_communes)) for s in sizes]
    while sum(new_counts) > communes:
        new_counts[max(range(provinces), key=lambda i: new_counts[i])] -= 1
    while sum(new_counts) < communes:
        new_counts[max(range(provinces), key=lambda i: sizes[i] / new_counts[i])] += 1
    for p, province_geo in enumerate(new_provs):
        members = old_per_new[p]
        groups = _split(len(members), min(new_counts[p], len(members)), rng, 0.4)
        start = 0
        names: set[str] = set()
        successor: dict[UnitKey, UnitKey] = {}
        runs: list[list[UnitKey]] = []
        for size in groups:
            runs.append(members[start:start + size])
            start += size
        for run in runs:
            donor = rng.choice(run)
            donor_name = bare_names[donor]
            bare = donor_name if rng.random() < 0.6 and donor_name not in names else place_name(rng, names)
            names.add(bare)
            kinds = [old_kind[k] for k in run]
            kind = "Phường" if "Phường" in kinds else "Xã"
            spec = UnitSpec("2025", "commune", donor[2], kind, bare, province_geo.key)
            geo.units.append(spec)
            urban = 1.0 if kind == "Phường" else 0.5 if "Thị trấn" in kinds else 0.06
            province_geo.communes.append(NewCommune(spec.key, kind, bare, list(run), urban))
            for old in run:
                successor[old] = spec.key
        # A few old communes were split between two new ones ("nhập một phần"): both successions are partial.
        partial: set[tuple[UnitKey, UnitKey]] = set()
        for left, right in zip(province_geo.communes, province_geo.communes[1:], strict=False):
            if len(left.predecessors) > 1 and rng.random() < split_share * 3:
                old = left.predecessors[-1]
                right.predecessors.append(old)
                partial.add((old, left.key))
                partial.add((old, right.key))
        for commune in province_geo.communes:
            for old in commune.predecessors:
                geo.successions.append((old, commune.key, (old, commune.key) not in partial))
        province_geo.districts = [
            OldDistrict(d.key, d.kind, d.bare_name, successor[d.seat_old], d.seat_old)
            for d in province_geo.districts
        ]
    geo.provinces = new_provs
    return geo

