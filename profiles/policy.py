"""Authorization: who may use which managed object.

The model is the default operation policy of SPEC-1.0 §3.18.2 ("the creator of an object may
perform every operation on it; others may not"): an object belongs to the client identity
that created or registered it (the identity comes from the TLS peer certificate, passed down
by the server as data). Administrator identities from the configuration may use every object.

An identity that may not use an object gets the same answer as for an object that does not
exist (Item Not Found, 2.x Object Not Found): SPEC-1.4 §11 lists Permission Denied for "Client
is not allowed to perform the specified operation", but telling a foreign client that a Unique
Identifier exists would leak existence, so objects of other owners are simply not visible
(also to Locate, which only searches the caller's objects).
"""

from __future__ import annotations

from collections.abc import Iterable


class Policy:
    """Ownership-based access control with an administrator list."""

    def __init__(self, admins: Iterable[str] = ()) -> None:
        self.admins: frozenset[str] = frozenset(admins)

    def is_admin(self, identity: str) -> bool:
        return identity in self.admins

    def may_access(self, identity: str, owner: str) -> bool:
        """True if ``identity`` may see and use an object owned by ``owner``."""
        return identity == owner or identity in self.admins

    def locate_owner(self, identity: str) -> str | None:
        """The owner filter of a Locate for ``identity`` (None: every owner, for admins)."""
        return None if identity in self.admins else identity
