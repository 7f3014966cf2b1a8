"""spyne models that mirror one contract's schema type for type, for every inbound contract.

The models of a door exist so that spyne dispatches on the contract's elements and generates an
interface document equivalent to the checked-in WSDL (tests/soap/test_contract_drift.py); they
never read or write a message (`bridge.soap.protocol`). What makes them mirror the contract is
the same for every contract, so it lives here once: names and namespaces kept on customised
types, occurrences without ``nillable``, ``xs:choice`` groups, and the document/literal ``@rpc``
whose body *is* the element.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spyne import ComplexModel, Unicode, rpc


class ContractTypes:
    """Builds the named simple types, occurrences and complex types of the contract whose
    target namespace is `namespace`."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._fault: Any = None

    # -- simple types ----------------------------------------------------------------------------
    # spyne renames a named simple type when it is customised again (e.g. for minOccurs), so
    # every customisation repeats the type's name and namespace.

    def named(self, kind: Any, name: str, **facets: Any) -> Any:
        return kind.customize(
            type_name=name, __namespace__=self.namespace, nillable=False, **facets
        )

    def text(self, name: str, max_len: int, pattern: str | None = None) -> Any:
        """A ``MaxNText``: a string of 1 to `max_len` characters, of `pattern` if given."""
        kind = self.named(Unicode, name, min_len=1, max_len=max_len)
        if pattern is not None:
            # Set past spyne's setter, which compiles the pattern with Python's `re`: XSD's
            # category escapes (\p{Cc}) are not Python's. spyne only writes the facet into the
            # interface document; lxml validates requests against the contract.
            kind.Attributes._pattern = pattern
        return kind

    def pattern(self, name: str, pattern: str) -> Any:
        return self.named(Unicode, name, pattern=pattern)

    def codes(self, name: str, *values: str) -> Any:
        """A code list (``xs:enumeration``)."""
        return self.named(Unicode, name, values=list(values))

    # -- occurrences -----------------------------------------------------------------------------

    def _occurs(self, kind: Any, min_occurs: int, max_occurs: Any = 1, **more: Any) -> Any:
        names = {}
        if kind.get_namespace() == self.namespace:  # keep a named type's name (see above)
            names = {"type_name": kind.get_type_name(), "__namespace__": self.namespace}
        return kind.customize(
            min_occurs=min_occurs, max_occurs=max_occurs, nillable=False, **names, **more
        )

    def one(self, kind: Any) -> Any:
        return self._occurs(kind, 1)

    def optional(self, kind: Any) -> Any:
        return self._occurs(kind, 0)

    def up_to(self, kind: Any, max_occurs: int) -> Any:
        return self._occurs(kind, 0, max_occurs)

    def any_number(self, kind: Any) -> Any:
        """``minOccurs="0" maxOccurs="unbounded"``."""
        return self._occurs(kind, 0, "unbounded")

    def either(self, kind: Any, group: str) -> Any:
        """One branch of an ``xs:choice`` (spyne puts the members of a group in one choice)."""
        return self._occurs(kind, 1, xml_choice_group=group)

    # -- complex types and operations ------------------------------------------------------------

    def complex(self, name: str, fields: list[tuple[str, Any]]) -> Any:
        """A complexType named as in the contract, fields in its ``xs:sequence`` order."""
        return ComplexModel.produce(self.namespace, name, fields)

    def fault(self, name: str, fields: list[tuple[str, Any]]) -> Any:
        """The contract's one fault type, which every `operation` declares."""
        self._fault = self.complex(name, fields)
        return self._fault

    def operation(self, request: Any, response: Any) -> Callable[[Callable[..., Any]], Any]:
        """spyne's ``@rpc`` for the document/literal operation named as the decorated method,
        whose body *is* the element (bare), declaring the contract's `fault`."""

        def declare(method: Callable[..., Any]) -> Any:
            if self._fault is None:
                raise TypeError("declare the contract's fault type before its operations")
            name = method.__name__
            decorator = rpc(
                self.one(request),
                _returns=response,
                _body_style="bare",
                _in_message_name=name,
                _out_message_name=f"{name}Response",
                _throws=[self._fault],
            )
            return decorator(method)

        return declare
