"""Forms of the start page and of the form's no-script fallback (one small form per item)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

KIND_CHOICES = [SelectChoice("external", _l("External inspection")), SelectChoice("self", _l("Self-assessment"))]
# The supervision programmes of checklists/README.md ("programme"), in that order.
PROGRAMME_LABELS = {
    "routine": _l("Routine quality supervision"),
    "campaign": _l("Campaign supervision"),
    "self_assessment": _l("Facility self-assessment programme"),
    "gpp": _l("Good Pharmacy Practice (GPP) inspection"),
}
PROGRAMME_CHOICES = [SelectChoice(code, label) for code, label in PROGRAMME_LABELS.items()]


class StartForm(FlaskForm):
    """Start an inspection of a facility: the date (default today) and the kind."""

    facility_id = IntegerField(_l("Facility"), validators=[InputRequired()])
    # Optional: a start button on the facility page posts without a date, meaning today.
    inspection_date = DateField(_l("Inspection date"), validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default="external")
    # Which supervision programme's checklist to use; the start page offers those that have one for the facility.
    programme = SelectField(_l("Programme"), choices=PROGRAMME_CHOICES, default="routine")


class ItemFallbackForm(FlaskForm):
    """One item saved without JavaScript: a tapped answer, the typed value, the note, a photo or a deletion."""

    base_revision = IntegerField(validators=[InputRequired(), NumberRange(min=0)])
    # The tapped button of a yes/no or scale item (value_choice) wins over a typed number or text (value).
    value_choice = StringField(validators=[Optional(), Length(max=20)])
    value = TextAreaField(validators=[Optional(), Length(max=4000)])
    note = TextAreaField(validators=[Optional(), Length(max=4000)])
    photo = FileField()
    delete_photo = HiddenField(validators=[Optional(), Length(max=36)])
