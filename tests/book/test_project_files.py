"""Repository-level invariants: pins agree, the table of contents matches the chapter registry."""

from pathlib import Path

import yaml
from offconvex.book.chapters import BEYOND, CHAPTERS, PARTS
from offconvex.book.lock import read_pins

ROOT = Path(__file__).resolve().parents[2]


def test_environment_yml_carries_the_lock_files_pins():
    lock = read_pins((ROOT / "requirements.lock").read_text())
    conda = read_pins((ROOT / "environment.yml").read_text())
    assert lock == conda
    assert lock["torch"] == "2.13.0"  # never a local suffix like +cpu: PyPI has no such file
    assert lock["jupyter-book"].startswith("1.")


def test_toc_lists_every_chapter_in_its_part():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    parts = {part["caption"]: [c["file"] for c in part["chapters"]] for part in toc["parts"]}
    for part in PARTS:
        expected = [f"book/posts/{c.slug}" for c in CHAPTERS if c.part == part]
        assert parts[part] == expected
    assert len([c for c in CHAPTERS if c.part != BEYOND]) == 10  # one chapter per post
    assert list(parts)[-2:] == [BEYOND, "About this book"]  # after the ten post chapters


def test_config_leaves_execution_to_papermill():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True


def test_every_notebook_is_a_registered_chapter_with_a_parameters_cell():
    from offconvex.book.params import default_parameters

    slugs = {c.slug for c in CHAPTERS}
    for notebook in sorted((ROOT / "notebooks").glob("*.py")):
        assert notebook.stem in slugs, f"{notebook.name} is not in lib/offconvex/book/chapters.py"
        defaults = default_parameters(notebook)
        assert defaults["PROFILE"] == "book" and isinstance(defaults["SEED"], int)


def test_about_part_lists_the_hand_written_and_generated_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    about = next(part["chapters"] for part in toc["parts"] if part["caption"] == "About this book")
    files = [entry["file"] for entry in about]
    generated = {"book/reproducibility", "book/gallery"}  # written by `python -m offconvex book`
    assert generated <= set(files)
    for name in set(files) - generated:
        assert (ROOT / f"{name}.md").exists(), f"{name}.md is in _toc.yml but missing"
    ignored = (ROOT / ".gitignore").read_text().split()
    assert all(f"{name}.md" in ignored for name in generated)


def test_config_loads_the_offline_and_chapter_button_extensions():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert {"offconvex.book.offline_math", "offconvex.book.site"} <= set(config["sphinx"]["extra_extensions"])


# --- Chapter sources as the page shows them (issue 16): checked on the .py, before any build -----------

CODE_COLUMN = 76  # characters of a code line the chapter page's column shows at 1280 px (14 px monospace)
TEX_OUTSIDE_MATH = ("_{", "^{", "\\frac", "\\sqrt", "\\mathbb", "\\in ", "\\le", "\\ge", "\\sum")


def _cells(notebook: Path):
    import jupytext

    return jupytext.read(notebook).cells


def _without_math(text: str) -> str:
    """Markdown with $$...$$, $...$ and `code` removed: what MathJax leaves as plain text."""
    import re

    for pattern in (r"\$\$.*?\$\$", r"\$[^$\n]+\$", r"``.*?``", r"`[^`\n]+`", r"\(https?://[^)]*\)"):
        text = re.sub(pattern, " ", text, flags=re.S)
    return text


def test_each_chapters_title_is_its_registry_title():
    """One title everywhere: the sidebar and page show the notebook's H1, the report and gallery the registry."""
    for chapter in CHAPTERS:
        first = _cells(ROOT / "notebooks" / f"{chapter.slug}.py")[0]
        heading = first.source.splitlines()[0]
        assert heading == f"# {chapter.title}", f"{chapter.slug}: H1 {heading!r} != registry {chapter.title!r}"


def test_visible_code_fits_the_pages_column():
    too_long = []
    for notebook in sorted((ROOT / "notebooks").glob("*.py")):
        for cell in _cells(notebook):
            tags = cell.metadata.get("tags", [])
            # The parameters cell is shown as a table of the run's values (runner), not as code.
            if cell.cell_type != "code" or {"remove-cell", "remove-input", "parameters"} & set(tags):
                continue
            too_long += [f"{notebook.stem}: {line[:50]}… ({len(line)})" for line in cell.source.splitlines()
                         if len(line) > CODE_COLUMN]
    assert not too_long, f"{len(too_long)} code lines wider than {CODE_COLUMN} characters:\n" + "\n".join(too_long[:20])


def test_formulas_are_math_markup_not_bare_tex():
    """TeX left outside $...$ is shown raw on the page (MathJax only typesets math markup)."""
    raw = []
    for notebook in sorted((ROOT / "notebooks").glob("*.py")):
        for cell in _cells(notebook):
            if cell.cell_type == "markdown":
                text = _without_math(cell.source)
                raw += [f"{notebook.stem}: {token!r} in {line.strip()[:70]!r}" for line in text.splitlines()
                        for token in TEX_OUTSIDE_MATH if token in line]
    assert not raw, "TeX outside math markup:\n" + "\n".join(raw[:20])


TOPICS = ("factorization", "dynamics", "sampling", "generalization", "privacy")


def _library_imports() -> dict[str, set[str]]:
    """Module name -> the offconvex modules it imports (top-level and inside functions alike)."""
    import ast

    lib = ROOT / "lib"
    modules = {".".join(path.relative_to(lib).with_suffix("").parts).removesuffix(".__init__"): path
               for path in (lib / "offconvex").rglob("*.py")}
    imports = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("offconvex"):
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                          for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("offconvex.")}
        imports[name] = found - {name, "offconvex"}
    return imports


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else parts[-1]


def test_imports_run_one_way_notebooks_topics_core():
    """core imports only core; a topic only itself and core; the machinery (book) no topic."""
    allowed = {"core": {"core"}, "book": {"book", "core"}, **{t: {t, "core"} for t in TOPICS}}
    wrong = [f"{module} imports {target}" for module, targets in _library_imports().items()
             for target in targets if _part(module) in allowed and _part(target) not in allowed[_part(module)]]
    assert not wrong, "\n".join(wrong)
    assert {p.name for p in (ROOT / "lib" / "offconvex").iterdir() if p.is_dir() and p.name != "__pycache__"} \
        == {"book", "core", *TOPICS}  # a new package is a new part of the book: add it here and to the README


def test_no_two_library_modules_import_each_other_even_lazily():
    imports = _library_imports()
    state: dict[str, int] = {}

    def cycle_from(module, path):
        state[module] = 1
        for target in sorted(imports.get(module, ())):
            if state.get(target) == 1:
                return path + [target]
            if target in imports and not state.get(target):
                found = cycle_from(target, path + [target])
                if found:
                    return found
        state[module] = 2
        return None

    for module in sorted(imports):
        if not state.get(module):
            found = cycle_from(module, [module])
            assert found is None, "import circle: " + " -> ".join(found)
