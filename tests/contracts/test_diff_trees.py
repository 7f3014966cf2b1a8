"""`diff_messages` on element trees built by hand: the constructs the WSDL pairs do not show
(recursion on both sides, simple content, lists, unions, ranges of dates, repeated groups)."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from bridge.contracts.diff import Change, diff_messages
from bridge.mapping.xsdtree import ComplexType, Element, Facets, Group, SimpleType

NS = "urn:tree"
GroupKind = Literal["sequence", "choice", "all"]


def text(**facets: Any) -> SimpleType:
    return SimpleType(None, "string", Facets(**facets))


def of(builtin: str, **facets: Any) -> SimpleType:
    return SimpleType(None, builtin, Facets(**facets))


def root(*children: Element | Group, kind: GroupKind = "sequence", **group: Any) -> Element:
    content = Group(kind, list(children), **group)
    return Element("message", NS, ComplexType(None, content=content))


def child(name: str, type_: SimpleType | ComplexType, **occurs: Any) -> Element:
    return Element(name, NS, type_, **occurs)


def compare(old: Element, new: Element, message: str = "input") -> list[tuple[str, str]]:
    return [(change.kind, change.path) for change in changes(old, new, message)]


def changes(old: Element, new: Element, message: str = "input") -> list[Change]:
    return diff_messages(old, new, operation="op", message=message)


def recursive(label: SimpleType) -> ComplexType:
    node = ComplexType(f"{{{NS}}}Node")
    node.content = Group("sequence", [child("label", label), child("next", node, min_occurs=0)])
    return node


def test_a_type_recursive_on_both_sides_is_walked_once_per_path() -> None:
    old = root(child("list", recursive(text(max_length=10))))
    new = root(child("list", recursive(text(max_length=5))))
    assert compare(old, new) == [("type-narrowed", "op/input/list/label")]


def test_a_named_type_used_twice_is_reported_at_both_places() -> None:
    def address(city: SimpleType) -> ComplexType:
        return ComplexType(f"{{{NS}}}Address", content=Group("sequence", [child("city", city)]))

    old_type, new_type = address(text()), address(text(max_length=35))
    old = root(child("billing", old_type), child("shipping", old_type))
    new = root(child("billing", new_type), child("shipping", new_type))
    assert compare(old, new) == [
        ("type-narrowed", "op/input/billing/city"),
        ("type-narrowed", "op/input/shipping/city"),
    ]


def test_simple_content_is_compared_as_text_and_its_attributes() -> None:
    def amount(digits: int) -> ComplexType:
        return ComplexType(None, simple=of("decimal", total_digits=digits))

    old, new = root(child("amount", amount(12))), root(child("amount", amount(9)))
    assert compare(old, new) == [("type-narrowed", "op/input/amount/#text")]


def test_simple_content_that_becomes_element_content_is_a_new_content_model() -> None:
    old = root(child("amount", ComplexType(None, simple=of("decimal"))))
    new_type = ComplexType(None, content=Group("sequence", [child("value", of("decimal"))]))
    new = root(child("amount", new_type))
    assert compare(old, new) == [("content-model-changed", "op/input/amount")]


def test_an_exclusive_integer_bound_equal_to_the_inclusive_one_is_no_change() -> None:
    old = root(child("count", of("int", min_exclusive="0")))
    new = root(child("count", of("int", min_inclusive="1")))
    assert compare(old, new) == []


def test_a_date_range_that_ends_earlier_is_narrowed() -> None:
    old = root(child("day", of("date", max_inclusive="2030-12-31")))
    new = root(child("day", of("date", max_inclusive="2025-12-31")))
    (change,) = changes(old, new)
    assert (change.kind, change.detail) == (
        "type-narrowed",
        "maxInclusive 2030-12-31 -> maxInclusive 2025-12-31",
    )


@pytest.mark.parametrize(
    ("builtin", "before", "after"),
    [("duration", "PT1H", "PT30M"), ("date", "2030-12-31Z", "2030-12-31+02:00")],
)
def test_a_bound_this_module_cannot_order_is_taken_as_changed(
    builtin: str, before: str, after: str
) -> None:
    old = root(child("until", of(builtin, max_inclusive=before)))
    new = root(child("until", of(builtin, max_inclusive=after)))
    assert compare(old, new) == [("type-changed", "op/input/until")]


def test_the_item_type_of_a_list_is_compared() -> None:
    def codes(length: int) -> SimpleType:
        return SimpleType(None, "string", item=text(max_length=length))

    assert compare(root(child("codes", codes(3))), root(child("codes", codes(2)))) == [
        ("type-narrowed", "op/input/codes")
    ]


def test_a_union_with_another_number_of_members_is_changed() -> None:
    old = SimpleType(None, "string", members=(of("int"), of("date")))
    new = SimpleType(None, "string", members=(of("int"),))
    assert compare(root(child("when", old)), root(child("when", new))) == [
        ("type-changed", "op/input/when")
    ]


def test_a_repeated_group_that_stops_repeating_turns_an_array_into_a_value() -> None:
    old = root(child("line", text()), max_occurs=None)
    new = root(child("line", text()), max_occurs=1)
    (change,) = changes(old, new, "output")
    assert (change.kind, change.path) == ("max-occurs-lowered", "op/output/line")
    assert (change.client, change.server) == ("breaking", "breaking")


def test_a_renamed_element_is_a_removal_and_an_addition() -> None:
    old, new = root(child("zip", text())), root(child("postcode", text()))
    assert compare(old, new) == [
        ("element-added-required", "op/input/postcode"),
        ("element-removed", "op/input/zip"),
    ]


def test_elements_moved_to_another_namespace_are_one_change_for_the_contract() -> None:
    old = root(child("a", text()), child("b", text()))
    new = root(Element("a", "urn:other", text()), Element("b", "urn:other", text()))
    (change,) = changes(old, new)
    assert (change.kind, change.operation, change.path) == ("namespace-changed", "", "op/input/a")
    assert (change.old, change.new) == (NS, "urn:other")


def test_a_fixed_value_added_narrows_the_type() -> None:
    old = root(child("version", text()))
    new = root(Element("version", NS, text(), fixed="2"))
    assert compare(old, new) == [("type-narrowed", "op/input/version")]


def test_mixed_content_allowed_widens_the_type() -> None:
    def note(mixed: bool) -> ComplexType:
        return ComplexType(None, content=Group("sequence", [child("b", text())]), mixed=mixed)

    assert compare(root(child("note", note(False))), root(child("note", note(True)))) == [
        ("type-widened", "op/input/note")
    ]


def test_a_new_branch_of_a_choice_is_an_optional_element_added() -> None:
    old = root(child("iban", text()), child("other", text()), kind="choice")
    new = root(child("iban", text()), child("other", text()), child("card", text()), kind="choice")
    assert compare(old, new, "output") == [("element-added-optional", "op/output/card")]
