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


def across_seeds(statuses: dict) -> str:
    """'robust: holds at all 5 seeds (0, 1, 2, 3, 4)', 'not reproduced at any of the 5 seeds' or
    'holds at 3 of 5 seeds; not at seed 2 ⚠️, seed 4 ❌'.

    ``statuses``: seed -> status, the published seed first. Robust means every seed, nothing less.
    """
    held = sum(status == "pass" for status in statuses.values())
    if held == len(statuses):
        return f"robust: holds at all {held} seeds ({', '.join(map(str, statuses))})"
    if len(set(statuses.values())) == 1:  # the same miss everywhere: say it once
        return f"{BADGES[next(iter(statuses.values()))][0]} at any of the {len(statuses)} seeds"
    misses = ", ".join(f"seed {seed} {BADGES[status][1]}" for seed, status in statuses.items() if status != "pass")
    return f"holds at {held} of {len(statuses)} seeds; not at {misses}"


def claims_html(entries: list[dict], caption: str) -> str:
    """A claims table: status badge, claim, the numbers it was judged on (and the reason if not reproduced);
    when the entries carry ``seeds`` (seed -> status), a last column with the verdict across seeds."""
    with_seeds = any("seeds" in entry for entry in entries)
    rows = []
    for entry in entries:
        numbers = format_measured(entry["measured"])
        if entry.get("reason"):
            numbers += f" — {entry['reason']}"
        seeds = (f"<td>{html.escape(across_seeds(entry['seeds']))}</td>" if "seeds" in entry else
                 "<td>not measured</td>") if with_seeds else ""
        rows.append(f'<tr><td><span class="offconvex-badge offconvex-{entry["status"]}">'
                    f'{html.escape(badge(entry["status"]))}</span></td>'
                    f"<td>{html.escape(entry['text'])}</td><td>{html.escape(numbers)}</td>{seeds}</tr>")
    head = "<th>Status</th><th>Claim</th><th>Measured</th>" + ("<th>Across seeds</th>" if with_seeds else "")
    return (f'<table class="offconvex-claims"><caption>{html.escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def claims_tables(claims: list[dict], profile: str, seed: int) -> dict:
    """The chapter's last output: the post's claims and, apart, the sanity checks (an HTML and a plain
    text view). Claims that carry ``seeds`` (the book's comparison across seeds) get that column and
    the caption says how many hold at every seed."""
    post = post_claims(claims)
    checks = [entry for entry in claims if entry.get("sanity")]
    caption = f"Claims of the post: {count_reproduced(claims)} (profile {profile}, seed {seed})"
    counted = [entry for entry in post if "seeds" in entry]
    if counted:
        seeds = len(counted[0]["seeds"])
        held = sum(all(s == "pass" for s in entry["seeds"].values()) for entry in counted)
        caption += f"; {held} of {len(post)} robust: hold at all {seeds} seeds"
    parts = [claims_html(post, caption)]
    if checks:
        held = sum(entry["passed"] for entry in checks)
        parts.append(claims_html(checks, "Sanity checks (identities and settings, not claims of the post): "
                                         f"{held} of {len(checks)} hold"))
    plain = "\n".join(f"{BADGES[e['status']][1]} {e['text']}"
                      + (f" ({across_seeds(e['seeds'])})" if "seeds" in e else "") for e in claims)
    return {"text/html": "".join(parts), "text/plain": plain}
