"""`page` / `page_size` as the reference defines them (page > 0, rows 1–10000), shared by every list.
The page number is capped so that page × page_size stays a 64-bit offset."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

Page = Annotated[int, QueryParameter(gt=0, le=1_000_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=10000)]
