"""Who is calling: the identity a validated token establishes."""

from __future__ import annotations

from dataclasses import dataclass

from auth.policy import ROLE_PRECEDENCE, Role


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    employee_id: str | None = None
    customer_id: str | None = None
    branch_id: str | None = None

    @property
    def primary_role(self) -> Role:
        """The role whose row scope and view apply (see ``ROLE_PRECEDENCE``)."""
        return next(r for r in ROLE_PRECEDENCE if r in self.roles)

    def claim(self, name: str) -> str | None:
        return {
            "employee_id": self.employee_id,
            "customer_id": self.customer_id,
            "branch_id": self.branch_id,
        }.get(name)


# No roles: every operation check refuses it. Used only where no token can be required (the
# development GraphiQL page, which runs no operation).
ANONYMOUS = Principal(subject="anonymous", roles=frozenset())
