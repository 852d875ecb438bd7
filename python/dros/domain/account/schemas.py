from __future__ import annotations

from typing import Annotated

import msgspec

from dros.settings import Locale

Password = Annotated[str, msgspec.Meta(max_length=256)]


class PasswordChange(msgspec.Struct):
    old_password: Password
    new_password: Password
    confirm_new_password: Password


class LanguageChange(msgspec.Struct):
    lang: Locale
