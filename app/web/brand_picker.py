"""A form's brand: a select of every brand while there are few, a name to type beyond BRAND_SELECT_MAX.

A select of ten thousand brands costs every view of its page a fraction of a second to build and half a
megabyte to send, so at agency scale the brand is typed instead (found by name, case aside) and the page's
cost no longer grows with the brands. The form has a ``brand`` select and a ``brand_name`` text field; the
template shows the one ``form.brand_select`` says.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Brand
from app.services.brands import brand_typed

BRAND_SELECT_MAX = 200


def listed(form, brands: list) -> bool:
    """Whether ``brands`` (at most BRAND_SELECT_MAX + 1 of them read) are few enough for a select; sets
    ``form.brand_select``."""
    form.brand_select = len(brands) <= BRAND_SELECT_MAX
    return form.brand_select


def typed_brand(session: Session, typed: str | None) -> tuple[Brand | None, str | None]:
    """The brand whose name was ``typed``, and None; or None and what is wrong (nothing typed: None, None)."""
    typed = (typed or "").strip()
    if not typed:
        return None, None
    brand, near = brand_typed(session, typed)
    if brand is None:
        hint = f" Brands with it in their names: {', '.join(near)}." if near else ""
        return None, f"No brand is named “{typed}”.{hint}"
    return brand, None
