"""The checklist format's vocabulary: its version, the keys each part requires or allows, the patterns ids and
dates follow, and the lengths the database columns hold. Shared by the rules (``checklists.rules``,
``checklists.item_rules``) and the loader. Pure."""

from __future__ import annotations

import re

FORMAT_VERSION = 1
CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
# Section and item ids end up in URLs, form field names and the database: keep to safe characters.
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
FILE_NAME_RE = re.compile(r"v([0-9]+)\.yaml")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Lengths of the database columns the values are copied into (checklist_version.code, title_*).
MAX_CODE_LENGTH = 64
MAX_TITLE_LENGTH = 300
OVERALL_METHODS: tuple[str, ...] = ("pooled", "weighted_sections")
CRITICAL_VALUES: tuple[str, ...] = ("never", "always")
INFORMATIONAL_ANSWER_TYPES: tuple[str, ...] = ("number", "text")

TOP_REQUIRED = (
    "schema",
    "code",
    "version",
    "status",
    "title",
    "effective_from",
    "facility_types",
    "scoring",
    "sections",
)
TOP_OPTIONAL = ("description", "legal_basis", "programme", "groups")
SCORING_REQUIRED = (
    "overall",
    "meets_min",
    "conditional_min",
    "section_min",
    "validity_months",
    "corrective_days",
)
SCORING_OPTIONAL = ("groups_rule",)
GROUP_REQUIRED = ("id", "title", "sections", "meets_min", "conditional_min")
GROUP_OPTIONAL = ("aggregation", "section_min", "floor", "weight", "applies_to")
SECTION_REQUIRED = ("id", "title", "items")
SECTION_OPTIONAL = ("weight", "applies_to", "applies_if_offers", "instructions", "informational")
ITEM_REQUIRED = ("id", "text")
ITEM_OPTIONAL = (
    "guidance",
    "verification",
    "answer",
    "weight",
    "applies_to",
    "applies_if_offers",
    "critical",
    "allow_na",
    "allow_not_observed",
    "scale",
    "pass_min",
    "unit",
    "finding_below",
    "integer",
    "min",
    "max",
    "max_length",
    "informational",
    "options",
)
TEXT_REQUIRED = ("vi",)
TEXT_OPTIONAL = ("en",)
# A legal_basis entry is a text that may also say where and when it applies.
LEGAL_BASIS_OPTIONAL = ("facility_types", "in_force_from", "in_force_until")
