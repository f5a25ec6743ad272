"""A notebook's parameters: read the defaults from its `parameters` cell, validate overrides."""

import ast
import re
from pathlib import Path

import jupytext

from offconvex.book.project import BookError, check_profile


def parameters_cell(notebook: Path) -> str:
    """Source of the cell tagged ``parameters`` in a jupytext notebook."""
    nb = jupytext.read(notebook)
    cells = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    if len(cells) != 1:
        raise BookError(f"{notebook.name} has {len(cells)} cells tagged 'parameters'; it needs exactly one")
    return cells[0].source


def default_parameters(notebook: Path) -> dict:
    """``NAME = literal`` assignments of the parameters cell, in order."""
    try:
        tree = ast.parse(parameters_cell(notebook))
    except SyntaxError as error:
        raise BookError(f"{notebook.name}: parameters cell does not parse ({error.msg})") from None
    defaults = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            defaults[node.targets[0].id] = ast.literal_eval(node.value)
    if "PROFILE" not in defaults or "SEED" not in defaults:
        raise BookError(f"{notebook.name}: the parameters cell must define PROFILE and SEED")
    return defaults


def parameter_comments(notebook: Path) -> dict:
    """``NAME -> comment`` of the parameters cell: the trailing ``# ...`` of each assignment, if any."""
    comments = {}
    for line in parameters_cell(notebook).splitlines():
        name, sep, rest = line.partition("=")
        if sep and name.strip().isidentifier() and not line.startswith((" ", "#")) and "#" in rest:
            comments[name.strip()] = rest.split("#", 1)[1].strip()
    return comments


# A parameter's valid values, declared at the end of its comment in the parameters cell:
#   N_TRAIN = 1200  # training digits [valid: 100..1697]     (bounds inclusive, either may be left out)
#   STEP = 0.01  # Langevin step [valid: >0]
#   DATASET = "digits"  # ... [valid: "digits" | "mnist"]
VALID = re.compile(r"\[valid: ([^\]]+)\]\s*$")
BUILT_IN_RULES = {"SEED": "0..", "PERTURBATION": "0.."}


def parameter_rules(notebook: Path) -> dict:
    """``NAME -> rule`` of every parameter whose comment ends with ``[valid: RULE]`` (and SEED, PERTURBATION)."""
    rules = dict(BUILT_IN_RULES)
    for name, comment in parameter_comments(notebook).items():
        if match := VALID.search(comment):
            rules[name] = match.group(1).strip()
    return rules


def check_valid(name: str, value, rule: str, slug: str) -> None:
    """Raise a one-line BookError when ``value`` breaks ``rule`` (see VALID)."""
    if "|" in rule or rule.startswith(('"', "'")):
        choices = [ast.literal_eval(choice.strip()) for choice in rule.split("|")]
        ok, wanted = value in choices, "one of " + ", ".join(map(repr, choices))
    elif rule.startswith(">"):
        strict = not rule.startswith(">=")
        bound = float(rule.lstrip(">="))
        ok, wanted = (value > bound if strict else value >= bound), f"{rule[:2 - strict]} {bound:g}"
    else:
        low, _, high = rule.partition("..")
        ok = (not low or value >= float(low)) and (not high or value <= float(high))
        wanted = f"in {rule}" if low and high else (f">= {low}" if low else f"<= {high}")
    if not ok:
        raise BookError(f"parameter {name} of {slug} must be {wanted}, got {value!r}")


def parse_value(text: str):
    """Read a command-line value as a Python literal (3, 1e-3, True, [1, 2]); anything else is a string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _coerce(name: str, default, value, slug: str):
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and (expected is bool) == isinstance(value, bool):
        return value
    raise BookError(
        f"parameter {name} of {slug} expects {expected.__name__} (default {default!r}), "
        f"got {value!r} ({type(value).__name__}); pass e.g. -p {name} {default!r}"
    )


def resolve_parameters(notebook: Path, profile: str, overrides: dict) -> dict:
    """Defaults of the notebook updated with the profile and validated overrides."""
    slug = notebook.stem
    defaults = default_parameters(notebook)
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise BookError(
            f"unknown parameter {', '.join(unknown)} for {slug}; its parameters are {', '.join(defaults)}"
        )
    if "PROFILE" in overrides:
        raise BookError("set the profile with --profile, not -p PROFILE")
    resolved = dict(defaults, PROFILE=check_profile(profile))
    for name, value in overrides.items():
        resolved[name] = _coerce(name, defaults[name], value, slug)
    for name, rule in parameter_rules(notebook).items():
        if name in overrides:  # the defaults are the published run's
            check_valid(name, resolved[name], rule, slug)
    return resolved
