"""Translatable labels for the registry's codes, for every page and export to reuse.

Lazy strings (``_l``): they are evaluated in the request's language when rendered. The Vietnamese names in
the comments are the ones the catalogue should carry.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FACILITY_TYPE_LABELS = {
    "TYT": _l("Commune health station"),  # Trạm Y tế xã/phường/đặc khu
    "TTYT": _l("Health centre (regional)"),  # Trung tâm Y tế (khu vực): the former district centre
    "BV": _l("Hospital"),  # Bệnh viện
    "PK": _l("Private clinic"),  # Phòng khám
    "NT": _l("Pharmacy or drug counter"),  # Nhà thuốc/quầy thuốc
    "CDC": _l("Provincial CDC or reproductive-health centre"),  # CDC tỉnh / Trung tâm CSSKSS
    "PKKV": _l("Regional polyclinic"),  # Phòng khám đa khoa khu vực
    "NHS": _l("Maternity home"),  # Nhà hộ sinh
    "YTCQ": _l("Workplace or industrial-zone clinic"),  # Y tế cơ quan, doanh nghiệp, khu công nghiệp
    "DLD": _l("Mobile team"),  # Đội lưu động: not a facility, never in an indicator's denominator
}

OWNERSHIP_LABELS = {
    "public": _l("Public"),  # Công lập
    "non_public": _l("Non-public"),  # Ngoài công lập
}

SERVICE_LABELS = {
    "DCTC": _l("IUD"),  # Dụng cụ tử cung
    "QC": _l("Implant"),  # Que cấy tránh thai
    "TT": _l("Injectable"),  # Thuốc tiêm tránh thai
    "VU": _l("Pills"),  # Viên uống tránh thai
    "BCS": _l("Condoms"),  # Bao cao su
    "TS": _l("Sterilisation"),  # Triệt sản
}

# A facility's standing on a date (qa_app.facilities.status).
FACILITY_STATUS_LABELS = {
    "meets": _l("Meets the standard"),  # Đạt chuẩn
    "conditional": _l("Conditional"),  # Đạt có điều kiện
    "does_not_meet": _l("Does not meet"),  # Không đạt
    "not_assessable": _l("Not assessable: re-visit needed"),  # Không đánh giá được: cần giám sát lại
    "not_assessed": _l("Not assessed"),  # Chưa đánh giá
}

# An inspection's result as stored at submission.
CLASSIFICATION_LABELS = {
    "meets": _l("Meets the standard"),
    "conditional": _l("Conditional"),
    "does_not_meet": _l("Does not meet"),
    # A final result that is neither met nor failed: a required observation was missing.
    "not_assessable": _l("Not assessable: re-visit needed"),
}

INSPECTION_STATUS_LABELS = {
    "draft": _l("Draft"),  # Bản nháp
    "submitted": _l("Submitted"),  # Đã gửi
    "returned": _l("Returned"),  # Trả lại
    "approved": _l("Approved"),  # Đã duyệt
}

INSPECTION_KIND_LABELS = {
    "external": _l("External inspection"),  # Kiểm tra, giám sát
    "self": _l("Self-assessment"),  # Tự đánh giá
}

UNIT_SYSTEM_LABELS = {
    "2025": _l("From 1 July 2025"),  # Từ 01/7/2025
    "pre2025": _l("Before 1 July 2025"),  # Trước 01/7/2025
}

UNIT_LEVEL_LABELS = {
    "province": _l("Province"),
    "district": _l("District"),
    "commune": _l("Commune"),
}
