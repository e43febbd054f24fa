"""Facility registry forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class FacilityImportForm(FlaskForm):
    """Upload of a facility CSV file."""

    file = FileField(_l("CSV file (UTF-8)"), validators=[FileRequired(_l("Choose a CSV file."))],
                     render_kw={"accept": ".csv,text/csv"})
