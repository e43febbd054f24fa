"""Forms of the finishing page, the review decisions and the corrective-action follow-up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

TEAM_ROLE_LABELS = {
    "head": _l("Head of the team"),
    "deputy": _l("Deputy head"),
    "member": _l("Member"),
    "secretary": _l("Secretary"),
    "facility_rep": _l("Facility representative"),
}
# Rows offered without JavaScript: one per usual role, plus a spare member.
DEFAULT_TEAM_ROLES = ("head", "deputy", "member", "member", "secretary", "facility_rep")


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class TeamRowForm(Form):
    """One team member or facility representative (no CSRF: part of FinishForm)."""

    role = SelectField(_l("Role"), choices=[SelectChoice(k, v) for k, v in TEAM_ROLE_LABELS.items()])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)], filters=[_strip])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=160)], filters=[_strip])


class ActionRowForm(Form):
    """The corrective action for one failed item."""

    item_id = HiddenField()
    action = TextAreaField(_l("What must be done"), validators=[Optional(), Length(max=4000)], filters=[_strip])
    responsible = StringField(_l("Who is responsible"), validators=[Optional(), Length(max=160)], filters=[_strip])
    deadline = DateField(_l("Deadline"), validators=[Optional()])


class FinishForm(FlaskForm):
    """Corrective actions, team, team decision, conclusion, facility opinion; the revision the page was built from."""

    revision = HiddenField()
    actions = FieldList(FormField(ActionRowForm))
    team = FieldList(FormField(TeamRowForm))
    facility_opinion = TextAreaField(_l("Opinion of the facility"), validators=[Optional(), Length(max=4000)],
                                     filters=[_strip])
    # The facility's explicit choice to give no opinion: never assumed, so an empty box is not agreement.
    facility_no_opinion = BooleanField(_l("The facility has no opinion"))
    decision_number = StringField(_l("Decision number"), validators=[Optional(), Length(max=60)], filters=[_strip])
    decision_date = DateField(_l("Decision date"), validators=[Optional()])
    decision_issuer = StringField(_l("Issuing body"), validators=[Optional(), Length(max=200)], filters=[_strip])
    conclusion_strengths = TextAreaField(_l("Strengths"), validators=[Optional(), Length(max=4000)],
                                         filters=[_strip])
    conclusion_shortcomings = TextAreaField(_l("Shortcomings"), validators=[Optional(), Length(max=4000)],
                                            filters=[_strip])


class CommentForm(FlaskForm):
    """A reviewer's comment on the inspection or on one item."""

    item_id = HiddenField(filters=[lambda v: v or None])
    body = TextAreaField(_l("Comment"), validators=[Length(max=4000)], filters=[_strip])


class ReturnForm(FlaskForm):
    """Return to the supervisor; the comment is checked by the service (mandatory)."""

    comment = TextAreaField(_l("Why is it returned?"), validators=[Length(max=4000)], filters=[_strip])


class ActionDoneForm(FlaskForm):
    """Close a corrective action with the evidence that it was done."""

    # Emptiness is refused by the service, so the page and the API give the same message.
    evidence = TextAreaField(_l("Evidence that it was done"), validators=[Length(max=4000)], filters=[_strip])
