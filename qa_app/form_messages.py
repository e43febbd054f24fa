"""The WTForms validation messages the app's forms can show, so that they are extracted and translated.

WTForms ships no Vietnamese catalogue; Flask-WTF looks its messages up in the app's own catalogue (through
Flask-Babel), so they must be there, or a Vietnamese page says "This field is required.". This module is never
imported: it only names the messages for `pybabel extract` (the msgids are WTForms' own, word for word, for the
validators and fields the forms use: InputRequired, Length, NumberRange, Regexp, Email, SelectField, DateField,
IntegerField).
"""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    lazy_ngettext("Field must be at least %(min)d character long.",
                  "Field must be at least %(min)d characters long.", 1),
    lazy_ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.",
                  1),
    lazy_ngettext("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.",
                  1),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Not a valid date value."),
    _l("Not a valid integer value."),
    _l("Invalid CSRF Token."),
    _l("CSRF token missing."),
    _l("CSRF failed."),
    _l("CSRF token expired."),
)
