"""Demo and scale data: the real Lai Châu province or synthetic provinces, with years of scored inspections."""

from .generator import (
    DEMO_PASSWORD,
    DEMO_USERS,
    DemoParams,
    DemoSummary,
    generate,
    parse_scope_code,
    scope_code,
)

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "DemoParams", "DemoSummary", "generate", "parse_scope_code", "scope_code"]
