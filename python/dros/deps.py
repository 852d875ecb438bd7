"""Injected dependencies, named as handlers spell them: `db: DbDep`, `product: ProductDep`,
`settings: SettingsDep` (providers live in request_context and are wired in app.py)."""

from __future__ import annotations

from litestar.di import NamedDependency

from dros.settings import Product, Settings
from dros.store.db import Database

DbDep = NamedDependency[Database]
ProductDep = NamedDependency[Product]
SettingsDep = NamedDependency[Settings]
