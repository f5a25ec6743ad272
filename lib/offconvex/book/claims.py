"""How a claim reads on the page: its status badge, its rounded numbers, the chapter's claims table.

Shared by the chapter page (``claims_table``), the gallery and the reproducibility report, so a claim
looks the same wherever a reader meets it.
"""

import html

from offconvex.book.numbers import format_measured

# status -> (badge text, mark)
BADGES = {"pass": ("reproduced", "✅"), "fail": ("failing", "❌"), "not-reproduced": ("not reproduced", "⚠️")}


def post_claims(claims: list[dict]) -> list[dict]:
    """The claims of the post, without the sanity checks."""
    return [entry for entry in claims if not entry.get("sanity")]


def count_reproduced(claims: list[dict]) -> str:
    """'7 of 9 reproduced' for the claims of the post among ``claims`` (sanity checks not counted)."""
    claims = post_claims(claims)
    return f"{sum(entry['passed'] for entry in claims)} of {len(claims)} reproduced"


def summarize(claims: list[dict]) -> str:
    """'claims 10 of 14 reproduced, 4 not reproduced, 0 failing (+ 2 sanity checks)': one line per run."""
    post = post_claims(claims)
    count = {status: sum(c["status"] == status for c in post) for status in BADGES}
    text = (f"claims {count['pass']} of {len(post)} reproduced, {count['not-reproduced']} not reproduced, "
            f"{count['fail']} failing")
    checks = [c for c in claims if c.get("sanity")]
    if checks:
        broken = sum(not c["passed"] for c in checks)
        text += f" (+ {len(checks)} sanity checks{f', {broken} failing' if broken else ''})"
    return text


def badge(status: str) -> str:
    """'✅ reproduced', '⚠️ not reproduced', '❌ failing'."""
    label, mark = BADGES[status]
    return f"{mark} {label}"


def claims_html(entries: list[dict], caption: str) -> str:
    """A claims table: status badge, claim, the numbers it was judged on (and the reason if not reproduced)."""
    rows = []
    for entry in entries:
        numbers = format_measured(entry["measured"])
        if entry.get("reason"):
            numbers += f" — {entry['reason']}"
        rows.append(f'<tr><td><span class="offconvex-badge offconvex-{entry["status"]}">'
                    f'{html.escape(badge(entry["status"]))}</span></td>'
                    f"<td>{html.escape(entry['text'])}</td><td>{html.escape(numbers)}</td></tr>")
    return (f'<table class="offconvex-claims"><caption>{html.escape(caption)}</caption>'
            "<thead><tr><th>Status</th><th>Claim</th><th>Measured</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")
