"""Roles and the permission matrix (README "Roles and permissions" renders this table).

The token carries no role claim (the seed's tokens have only exp, id, name): the role is read
from the user record on every request, so a role change takes effect at once.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    SERVICE = "service"  # field engineer: everything, incl. device service parameters
    ADMIN = "admin"  # hospital IT / key operator
    MGR = "mgr"  # department manager / chief radiographer
    TECH = "tech"  # radiographer at the console
    GUEST = "guest"  # token handed out by pub/software_info before login: no patient data


class Permission(enum.StrEnum):
    PROFILE = "profile"  # change own password
    SYSTEM_LANGUAGE = "system:language"
    RESOURCE_READ = "resource:read"
    CATALOG_READ = "catalog:read"
    CATALOG_EDIT = "catalog:edit"
    STUDY_READ = "study:read"
    STUDY_WRITE = "study:write"  # register, edit, lock, add/copy/sort views
    STUDY_DELETE = "study:delete"  # to the recycle bin, delete views
    BIN_PURGE = "bin:purge"  # permanent delete, empty the bin
    FILE_READ = "file:read"  # thumbnails, DICOM files, captures
    PACS_MANAGE = "pacs:manage"
    PACS_SEND = "pacs:send"
    REPORT = "report"
    ACQUIRE = "acquire"  # inspection start/trigger/judge/leave
    DEVICE_CONTROL = "device:control"
    DEVICE_SERVICE = "device:service"  # Private/ZSKK device properties
    SERVICE_READ = "service:read"  # service/health: loop lag, default passwords, process state


_EVERY_USER = {
    Permission.PROFILE,
    Permission.SYSTEM_LANGUAGE,
    Permission.RESOURCE_READ,
    Permission.CATALOG_READ,
    Permission.STUDY_READ,
    Permission.STUDY_WRITE,
    Permission.STUDY_DELETE,
    Permission.FILE_READ,
    Permission.PACS_SEND,
    Permission.REPORT,
    Permission.ACQUIRE,
    Permission.DEVICE_CONTROL,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SERVICE: frozenset(Permission),
    Role.ADMIN: frozenset(
        _EVERY_USER | {Permission.CATALOG_EDIT, Permission.BIN_PURGE, Permission.PACS_MANAGE, Permission.SERVICE_READ}
    ),
    Role.MGR: frozenset(_EVERY_USER | {Permission.CATALOG_EDIT, Permission.BIN_PURGE}),
    Role.TECH: frozenset(_EVERY_USER),
    Role.GUEST: frozenset({Permission.RESOURCE_READ, Permission.CATALOG_READ}),
}


def allows(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
