"""Vietnamese-looking names, addresses and phone numbers for generated data (pure, seeded by the caller)."""

from __future__ import annotations

import random

# Kinh family names, most common first (Nguyễn alone is about a third of the population).
KINH_SURNAMES = ("Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng",
                 "Ngô", "Dương", "Lý", "Phan", "Trịnh", "Đinh", "Lương", "Hà", "Mai")
MALE_MIDDLE = ("Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Thanh", "Công", "Xuân", "Ngọc")
FEMALE_MIDDLE = ("Thị", "Thị", "Thị", "Thu", "Thanh", "Ngọc", "Minh", "Hồng", "Phương", "Kim")
MALE_GIVEN = ("Hùng", "Dũng", "Tuấn", "Hải", "Nam", "Long", "Sơn", "Thắng", "Phong", "Quân", "Trung", "Hiếu",
              "Tùng", "Đức", "Thành", "Khánh", "Bình", "Cường", "Huy", "Tiến", "Lâm", "Hòa")
FEMALE_GIVEN = ("Hương", "Lan", "Hà", "Mai", "Hoa", "Thảo", "Trang", "Linh", "Yến", "Nga", "Hạnh", "Huyền",
                "Dung", "Ngân", "Phương", "Thủy", "Loan", "Nhung", "Oanh", "Vân", "Hằng", "Liên")
# Thái, Mông, Dao and other peoples of the north-western mountains, where Lai Châu lies.
ETHNIC_NAMES = (
    ("Lò", "Văn", "Thị", ("Thanh", "Ngọc", "Chiến", "Pành", "Xương"), ("Hoa", "Xuân", "Ín", "Pọm", "Ánh")),
    ("Lường", "Văn", "Thị", ("Phong", "Tiến", "Khoa", "Đôi"), ("Hương", "Mai", "Lả", "Ngân")),
    ("Tòng", "Văn", "Thị", ("Ngọc", "Hặc", "Sơn"), ("Hiền", "Ơn", "Lan")),
    ("Giàng", "A", "Thị", ("Páo", "Lử", "Chư", "Dơ"), ("Mỷ", "Chở", "Dua", "Pà")),
    ("Vàng", "A", "Thị", ("Dế", "Sình", "Chá", "Phừ"), ("Mỷ", "Dợ", "Say", "Chư")),
    ("Sùng", "A", "Thị", ("Chớ", "Tủa", "Lầu"), ("Mai", "Sua", "Pàng")),
    ("Mùa", "A", "Thị", ("Sử", "Chứ", "Vảng"), ("Ly", "Của", "Dế")),
    ("Tẩn", "Láo", "Mý", ("Lở", "Sài", "Chòi"), ("Mẩy", "Phin", "Chạn")),
    ("Chảo", "Văn", "Mý", ("Lin", "Sần", "Phù"), ("Mẩy", "Chiêu", "Lai")),
    ("Lý", "Văn", "Thị", ("Phin", "Seo", "Quáng"), ("Xuân", "Mai", "Sao")),
    ("Lầu", "A", "Thị", ("Phái", "Sinh", "Chông"), ("Dợ", "Mỷ", "Pà")),
)

BRAND_WORDS = ("Hồng Phúc", "Minh Châu", "Bình An", "Thanh Hương", "Phúc Lâm", "An Khang", "Tâm Đức", "Hải Yến",
               "Thu Hà", "Ngọc Lan", "Hoàng Long", "Việt Hà", "Mai Anh", "Trường Sơn", "Kim Ngân", "Đức Minh",
               "Hạnh Phúc", "Bảo Châu", "Thiện Tâm", "Phương Đông", "Quang Huy", "Tuệ Minh", "Lan Anh",
               "Sơn Hà", "Hưng Thịnh", "Gia Bảo", "Khánh Linh", "Hòa Bình", "Nam Anh", "Tùng Lâm", "Thái Bình",
               "Phúc An", "Tâm An", "Hà My", "Thành Công", "Vạn Xuân", "Thiên Phúc", "An Bình", "Hoàn Mỹ",
               "Song Hương", "Trung Sơn", "Bảo Ngọc", "Như Ý", "Hải Đăng", "Tuấn Linh", "Huyền Trang")
CLINIC_PATTERNS = ("Phòng khám đa khoa tư nhân {}", "Phòng khám chuyên khoa Phụ sản {}",
                   "Phòng khám Sản phụ khoa {}", "Phòng khám đa khoa {}", "Phòng khám chuyên khoa Sản {}")
PHARMACY_PATTERNS = ("Nhà thuốc {}", "Nhà thuốc {}", "Quầy thuốc {}", "Quầy thuốc {}", "Nhà thuốc tư nhân {}")

STREETS = ("Trần Hưng Đạo", "Lê Lợi", "Nguyễn Trãi", "Võ Nguyên Giáp", "Trần Phú", "Lê Duẩn", "Hoàng Văn Thụ",
           "Nguyễn Chí Thanh", "Điện Biên Phủ", "Lý Thường Kiệt", "Quang Trung", "Hai Bà Trưng", "Ngô Quyền",
           "Phan Đình Phùng", "Nguyễn Văn Cừ", "Trường Chinh", "Tô Hiệu", "Kim Đồng", "Lê Thánh Tông")
HAMLET_PREFIXES = ("Bản", "Bản", "Bản", "Thôn", "Khu", "Tổ dân phố")
HAMLET_WORDS = ("Na", "Phiêng", "Nà", "Hua", "Pá", "Huổi", "Co", "Nậm", "Pậu", "Lùng", "Sì", "Tả", "Khuổi",
                "Mới", "Chang", "Ngoang", "Vàng", "Pa", "Noong", "Hô", "Cang", "Thẳm", "Pát", "Luông")

# Syllables of Sino-Vietnamese place names, for synthetic provinces, districts and communes.
PLACE_SYLLABLES = ("An", "Bình", "Phú", "Tân", "Hòa", "Thạnh", "Long", "Mỹ", "Thuận", "Lộc", "Hưng", "Đông",
                   "Tây", "Nam", "Bắc", "Phước", "Vĩnh", "Quang", "Hải", "Sơn", "Trung", "Thành", "Đức", "Hiệp",
                   "Hợp", "Thịnh", "Xuân", "Thanh", "Cát", "Lạc", "Khánh", "Định", "Yên", "Hà", "Kim", "Ninh",
                   "Gia", "Phong", "Tiến", "Minh", "Châu", "Hội", "Lâm", "Tường", "Nghĩa", "Quý", "Phúc", "Điền")


def person(rng: random.Random, ethnic_share: float = 0.0, female: bool | None = None) -> str:
    """A full name; ``ethnic_share`` of them from the mountain peoples' naming patterns."""
    if female is None:
        female = rng.random() < 0.55  # most FP providers and population officers are women
    if rng.random() < ethnic_share:
        surname, male_mid, female_mid, male_given, female_given = rng.choice(ETHNIC_NAMES)
        if female:
            return f"{surname} {female_mid} {rng.choice(female_given)}"
        return f"{surname} {male_mid} {rng.choice(male_given)}"
    surname = rng.choice(KINH_SURNAMES)
    if female:
        return f"{surname} {rng.choice(FEMALE_MIDDLE)} {rng.choice(FEMALE_GIVEN)}"
    return f"{surname} {rng.choice(MALE_MIDDLE)} {rng.choice(MALE_GIVEN)}"


def landline(rng: random.Random, area: str = "0213") -> str:
    """A fixed-line number with a provincial area code, e.g. '0213 3876 412'."""
    return f"{area} {rng.randint(3600, 3899)} {rng.randint(0, 999):03d}"


def mobile(rng: random.Random) -> str:
    """A mobile number in the usual 4-3-3 grouping."""
    prefix = rng.choice(("091", "094", "088", "098", "097", "096", "086", "035", "038", "039", "083", "081"))
    return f"{prefix}{rng.randint(0, 9)} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"


def hamlet(rng: random.Random) -> str:
    """A hamlet (bản, thôn, tổ dân phố); hamlets are not administrative units, only address lines."""
    prefix = rng.choice(HAMLET_PREFIXES)
    if prefix in ("Khu", "Tổ dân phố"):
        return f"{prefix} {rng.randint(1, 12)}"
    return f"{prefix} {rng.choice(HAMLET_WORDS)} {rng.choice(HAMLET_WORDS)}"


def street_address(rng: random.Random) -> str:
    """A house number and street."""
    return f"Số {rng.randint(1, 250)}, đường {rng.choice(STREETS)}"


def place_name(rng: random.Random, taken: set[str]) -> str:
    """A two-syllable place name not in ``taken`` (which it updates)."""
    for _ in range(200):
        first, second = rng.sample(PLACE_SYLLABLES, 2)
        name = f"{first} {second}"
        if name not in taken:
            taken.add(name)
            return name
    # A parent with more children than the syllables allow: number the rest, deterministically.
    name = f"{rng.choice(PLACE_SYLLABLES)} {rng.choice(PLACE_SYLLABLES)} {len(taken) + 1}"
    taken.add(name)
    return name


def brand(rng: random.Random, patterns: tuple[str, ...], taken: set[str]) -> str:
    """A private clinic or pharmacy name unique within ``taken`` (numbered when the words run out)."""
    pattern = rng.choice(patterns)
    word = rng.choice(BRAND_WORDS)
    name = pattern.format(word)
    number = 2
    while name in taken:
        name = pattern.format(f"{word} {number}")
        number += 1
    taken.add(name)
    return name
