"""`bridge contract diff OLD.wsdl NEW.wsdl`: the changes between two versions of a contract,
each judged for the client and the server (`bridge.contracts.diff` holds the rules).

    bridge contract diff v1/checkVatService.wsdl v2/checkVatService.wsdl
    bridge contract diff old.wsdl new.wsdl --format markdown > comment.md
    bridge contract diff old.wsdl new.wsdl --format json --fail-on breaking

Meant for partners' CI: the exit status is 0 when nothing fails the `--fail-on` level
(`breaking`: a change that breaks a client or a server; `strict`: also one that breaks only a
strict one, such as a new enumeration value in an output; `none`, the default: never), 1 when
something does, and 2 when a contract is refused or unreadable (the reason on stderr).
Neither contract is imported or written anywhere; both are read as safely as an import reads.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from itertools import groupby
from pathlib import Path

import click

from bridge.contracts.diff import (
    ARRAY_FORM_RULE,
    CONTRACT_RULES,
    MESSAGE_RULES,
    Change,
    Rule,
    diff_contracts,
)
from bridge.contracts.loader import load_contract
from bridge.domain.errors import ConfigurationError

WSDL = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@click.command("diff")
@click.argument("old", type=WSDL)
@click.argument("new", type=WSDL)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text: one line per change, by operation; json: a list of objects; "
    "markdown: a table for a pull request comment.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["breaking", "strict", "none"]),
    default="none",
    show_default=True,
    help="Exit 1 when a change breaks a client or server (breaking), or even only a strict "
    "one (strict).",
)
@click.option(
    "--port", default=None, help="The port whose binding is compared (default: as an import)."
)
def diff(old: Path, new: Path, output: str, fail_on: str, port: str | None) -> None:
    """Classify every change from OLD to NEW (two WSDL files) for clients and servers."""
    try:
        before = load_contract(old, name="old", port=port)
        after = load_contract(new, name="new", port=port)
    except ConfigurationError as exc:
        click.echo(f"bridge: {exc.detail}", err=True)
        sys.exit(2)
    changes = diff_contracts(before, after)
    click.echo(RENDERERS[output](changes, old, new), nl=False)
    if fail_on == "breaking" and any(change.breaking for change in changes):
        sys.exit(1)
    if fail_on == "strict" and any(change.strict for change in changes):
        sys.exit(1)


def render_text(changes: Sequence[Change], old: Path, new: Path) -> str:
    """One line per change, grouped by operation (the contract's own changes first), and a
    count at the end."""
    lines = [f"{old} -> {new}"]
    for operation, group in groupby(changes, key=lambda change: change.operation):
        lines.append(operation or "(contract)")
        lines += [
            f"  {_verdict(change):<10} {change.kind:<24} {change.path}: {change.detail}"
            f"  [client {change.client}, server {change.server}]"
            for change in group
        ]
    lines.append(_summary(changes))
    return "\n".join(lines) + "\n"


def render_json(changes: Sequence[Change], old: Path, new: Path) -> str:
    """A list of objects with the same keys each, in the order of `diff_contracts`."""
    payload = [change.as_json() for change in changes]
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_markdown(changes: Sequence[Change], old: Path, new: Path) -> str:
    """A table of the changes and, folded, the rules they were judged by."""
    lines = [f"### Contract diff: `{old.name}` -> `{new.name}`", "", _summary(changes), ""]
    if changes:
        lines += [
            "| Operation | Where | Change | Detail | Client | Server |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            "| "
            + " | ".join(
                (
                    _cell(change.operation or "(contract)"),
                    f"`{_cell(change.path)}`",
                    change.kind,
                    _cell(change.detail),
                    _effect(change.client),
                    _effect(change.server),
                )
            )
            + " |"
            for change in changes
        ]
        lines.append("")
    lines += [
        "<details><summary>How each change is judged</summary>",
        "",
        "In an input (and its SOAP headers) the client sends and the server receives; in an "
        "output or a fault the "
        "server sends and the client receives. *strict*: breaks only a receiver that "
        "validates against the old contract or refuses what it does not know.",
        "",
        *_rules_table("Sender", "Receiver", [*MESSAGE_RULES.values(), ARRAY_FORM_RULE]),
        "",
        *_rules_table("Client", "Server", list(CONTRACT_RULES.values())),
        "",
        "</details>",
    ]
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Sequence[Change], Path, Path], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
}


def _rules_table(first: str, second: str, rules: Sequence[Rule]) -> list[str]:
    return [
        f"| Change | {first} | {second} | Why |",
        "|---|---|---|---|",
        *(f"| {rule.kind} | {rule.first} | {rule.second} | {_cell(rule.why)} |" for rule in rules),
    ]


def _verdict(change: Change) -> str:
    if change.breaking:
        return "BREAKING"
    return "strict" if change.strict else "compatible"


def _summary(changes: Sequence[Change]) -> str:
    if not changes:
        return "No changes."
    breaking = sum(change.breaking for change in changes)
    strict = sum(change.strict and not change.breaking for change in changes)
    compatible = len(changes) - breaking - strict
    return (
        f"{len(changes)} change{'s' if len(changes) != 1 else ''}: {breaking} breaking, "
        f"{strict} breaking only strict clients or servers, {compatible} compatible."
    )


def _effect(effect: str) -> str:
    return "**breaking**" if effect == "breaking" else effect


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell: patterns and enumerations carry `|`."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'").replace("\n", " ")
