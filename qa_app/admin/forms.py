"""Forms of the user administration pages."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from ..auth.models import AREA_ROLES
from ..auth.services import MIN_PASSWORD_LENGTH, PasswordRuleError, check_password_rules

ROLE_LABELS = {
    "supervisor": _l("Supervisor"),
    "reviewer": _l("Reviewer"),
    "provincial_manager": _l("Provincial manager"),
    "admin": _l("Administrator"),
}
PASSWORD_HELP = _l("At least %(n)s characters, with letters and digits, not containing the username.",
                   n=MIN_PASSWORD_LENGTH)


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class UserForm(FlaskForm):
    """What an administrator may set on any account."""

    full_name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=120)], filters=[_strip])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=120)], filters=[_strip])
    email = StringField(_l("Email"), filters=[_strip], validators=[
        Optional(), Length(max=200),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("This is not an email address."))])
    role = SelectField(_l("Role"), choices=[SelectChoice(k, v) for k, v in ROLE_LABELS.items()])
    # Choices (provinces and districts of both unit systems) are set by the view.
    scope = SelectField(_l("Region (scope)"), choices=[])
    active = BooleanField(_l("Active"), default=True)

    def username_for_rules(self) -> str:
        """The username the password must not contain."""
        return ""

    def validate_scope(self, field: Field) -> None:
        """Only an administrator may have the whole country as scope."""
        if self.role.data != "admin" and not field.data:
            raise ValidationError(_("Choose a region: only an administrator may have the whole country as scope."))
        if (field.data or "").startswith("area:") and self.role.data not in AREA_ROLES:
            raise ValidationError(_("A service area can be the region of a reviewer or a manager only."))

    def validate_password(self, field: Field) -> None:
        """Apply the password rules of the sign-in service."""
        if field.data:
            try:
                check_password_rules(field.data, self.username_for_rules())
            except PasswordRuleError as exc:
                raise ValidationError(_("The password breaks a rule: %(rule)s.", rule=str(exc))) from None


class NewUserForm(UserForm):
    """A new account."""

    username = StringField(_l("Username"), filters=[_strip, lambda v: v.lower() if isinstance(v, str) else v],
                           validators=[InputRequired(), Length(min=3, max=64),
                                       Regexp(r"^[a-z0-9._-]+$",
                                              message=_l("Use letters without accents, digits, dots, dashes or "
                                                         "underscores."))])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)],
                             description=PASSWORD_HELP)

    def username_for_rules(self) -> str:
        """The username being created."""
        return self.username.data or ""


class EditUserForm(UserForm):
    """Changes to an account; an empty password keeps the current one."""

    password = PasswordField(_l("New password"), validators=[Optional(), Length(max=200)],
                             description=_l("Leave empty to keep the current password."))

    def __init__(self, *args: object, username: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._username = username

    def username_for_rules(self) -> str:
        """The account's username."""
        return self._username
