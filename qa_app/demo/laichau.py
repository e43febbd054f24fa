"""Lai Châu (province 12), which kept its borders in the 2025 reform: its units before and after 1 July 2025.

Public government codes and names (GSO list of 04/01/2025; the official new-to-old conversion table of
July 2025), retyped here for Lai Châu only as a compact table. Every Lai Châu commune was merged whole
("Nhập toàn bộ") or kept unchanged ("Giữ nguyên"), so each old commune has exactly one successor.

Kind codes: TP = Thành phố, H = Huyện, X = Xã, P = Phường, TT = Thị trấn.
"""

from __future__ import annotations

PROVINCE = ("12", "Tỉnh", "Lai Châu")

KINDS = {"TP": "Thành phố", "H": "Huyện", "X": "Xã", "P": "Phường", "TT": "Thị trấn"}

# Pre-2025 districts: code, kind, name.
DISTRICTS: tuple[tuple[str, str, str], ...] = (
    ("105", "TP", "Lai Châu"),
    ("106", "H", "Tam Đường"),
    ("107", "H", "Mường Tè"),
    ("108", "H", "Sìn Hồ"),
    ("109", "H", "Phong Thổ"),
    ("110", "H", "Than Uyên"),
    ("111", "H", "Tân Uyên"),
    ("112", "H", "Nậm Nhùn"),
)

# Pre-2025 communes: code, district code, kind, name.
OLD_COMMUNES = """
03386 105 P Quyết Thắng
03387 105 P Tân Phong
03388 105 P Quyết Tiến
03389 105 P Đoàn Kết
03390 106 TT Tam Đường
03391 109 X Lả Nhì Thàng
03394 106 X Thèn Sin
03400 106 X Tả Lèng
03403 105 X Sùng Phài
03405 106 X Giang Ma
03406 106 X Hồ Thầu
03408 105 P Đông Phong
03409 105 X San Thàng
03412 106 X Bình Lư
03413 106 X Sơn Bình
03415 106 X Nùng Nàng
03418 106 X Bản Giang
03421 106 X Bản Hon
03424 106 X Bản Bo
03427 106 X Nà Tăm
03430 106 X Khun Há
03433 107 TT Mường Tè
03434 112 TT Nậm Nhùn
03436 107 X Thu Lũm
03439 107 X Ka Lăng
03440 107 X Tá Bạ
03442 107 X Pa Ủ
03445 107 X Mường Tè
03448 107 X Pa Vệ Sử
03451 107 X Mù Cả
03454 107 X Bum Tở
03457 107 X Nậm Khao
03460 112 X Hua Bun
03463 107 X Tà Tổng
03466 107 X Bum Nưa
03467 107 X Vàng San
03469 107 X Kan Hồ
03472 112 X Mường Mô
03473 112 X Nậm Chà
03474 112 X Nậm Manh
03475 112 X Nậm Hàng
03478 108 TT Sìn Hồ
03481 112 X Lê Lợi
03484 112 X Pú Đao
03487 108 X Chăn Nưa
03488 112 X Nậm Pì
03490 109 X Huổi Luông
03493 108 X Pa Tần
03496 108 X Phìn Hồ
03499 108 X Hồng Thu
03502 112 X Nậm Ban
03503 112 X Trung Chải
03505 108 X Phăng Sô Lin
03508 108 X Ma Quai
03509 108 X Lùng Thàng
03511 108 X Tả Phìn
03514 108 X Sà Dề Phìn
03517 108 X Nậm Tăm
03520 108 X Tả Ngảo
03523 108 X Pu Sam Cáp
03526 108 X Nậm Cha
03527 108 X Pa Khoá
03529 108 X Làng Mô
03532 108 X Noong Hẻo
03535 108 X Nậm Mạ
03538 108 X Căn Co
03541 108 X Tủa Sín Chải
03544 108 X Nậm Cuổi
03547 108 X Nậm Hăn
03549 109 TT Phong Thổ
03550 109 X Sì Lở Lầu
03553 109 X Mồ Sì San
03559 109 X Pa Vây Sử
03562 109 X Vàng Ma Chải
03565 109 X Tông Qua Lìn
03568 109 X Mù Sang
03571 109 X Dào San
03574 109 X Ma Ly Pho
03577 109 X Bản Lang
03580 109 X Hoang Thèn
03583 109 X Khổng Lào
03586 109 X Nậm Xe
03589 109 X Mường So
03592 109 X Sin Suối Hồ
03595 110 TT Than Uyên
03598 111 TT Tân Uyên
03601 111 X Mường Khoa
03602 111 X Phúc Khoa
03604 111 X Thân Thuộc
03605 111 X Trung Đồng
03607 111 X Hố Mít
03610 111 X Nậm Cần
03613 111 X Nậm Sỏ
03616 111 X Pắc Ta
03618 110 X Phúc Than
03619 110 X Mường Than
03622 111 X Tà Mít
03625 110 X Mường Mít
03628 110 X Pha Mu
03631 110 X Mường Cang
03632 110 X Hua Nà
03634 110 X Tà Hừa
03637 110 X Mường Kim
03638 110 X Tà Mung
03640 110 X Tà Gia
03643 110 X Khoen On
"""

# 2025 communes: code, kind, name, then the codes of the pre-2025 communes merged into it.
NEW_COMMUNES = """
03388 P Đoàn Kết: 03391 03386 03388 03389 03403
03390 X Bình Lư: 03390 03412 03413
03394 X Sin Suối Hồ: 03586 03592 03394
03405 X Tả Lèng: 03400 03405 03406
03408 P Tân Phong: 03387 03408 03409 03415 03418
03424 X Bản Bo: 03424 03427
03430 X Khun Há: 03421 03430
03433 X Bum Tở: 03433 03454 03469
03434 X Nậm Hàng: 03434 03474 03475
03439 X Thu Lũm: 03436 03439
03442 X Pa Ủ: 03440 03442
03445 X Mường Tè: 03445 03457
03451 X Mù Cả: 03451
03460 X Hua Bum: 03460 03467
03463 X Tà Tổng: 03463
03466 X Bum Nưa: 03448 03466
03472 X Mường Mô: 03472 03473
03478 X Sìn Hồ: 03478 03505 03511 03514
03487 X Lê Lợi: 03481 03484 03488 03487
03503 X Pa Tần: 03502 03503 03493
03508 X Hồng Thu: 03496 03499 03508
03517 X Nậm Tăm: 03509 03517 03526
03529 X Tủa Sín Chải: 03520 03529 03541
03532 X Pu Sam Cáp: 03523 03527 03532
03538 X Nậm Mạ: 03535 03538
03544 X Nậm Cuổi: 03544 03547
03549 X Phong Thổ: 03490 03549 03574 03589
03562 X Sì Lở Lầu: 03550 03553 03559 03562
03571 X Dào San: 03565 03568 03571
03583 X Khổng Lào: 03577 03580 03583
03595 X Than Uyên: 03595 03619 03631 03632
03598 X Tân Uyên: 03598 03604 03605 03610
03601 X Mường Khoa: 03601 03602
03613 X Nậm Sỏ: 03613 03622
03616 X Pắc Ta: 03607 03616
03618 X Mường Than: 03618 03625
03637 X Mường Kim: 03628 03634 03637 03638
03640 X Khoen On: 03640 03643
"""


def old_communes() -> list[tuple[str, str, str, str]]:
    """Pre-2025 communes as (code, district code, kind, name)."""
    rows = []
    for line in OLD_COMMUNES.strip().splitlines():
        code, district, kind, name = line.split(" ", 3)
        rows.append((code, district, kind, name))
    return rows


def new_communes() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """2025 communes as (code, kind, name, predecessor codes)."""
    rows = []
    for line in NEW_COMMUNES.strip().splitlines():
        head, olds = line.split(": ")
        code, kind, name = head.split(" ", 2)
        rows.append((code, kind, name, tuple(olds.split())))
    return rows
