"""Service areas: named, dated sets of 2025 communes owned by a health unit (the tier below the province)."""
