"""Markdown output shared by the bench/*/bench.py scripts (`--markdown FILE` appends a section to FILE) and by
bench/report (which writes the header and collects the target lines into a summary).

A target line is one bullet that starts with TARGET_PREFIX, so bench/report can find it:
    - target: <what>: **met** (<numbers>)
"""
import os

TARGET_PREFIX = "- target: "


def table(headers, rows):
    """A markdown table; cells are formatted with str()."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def target(what, met, detail):
    return f"{TARGET_PREFIX}{what}: **{'met' if met else 'missed'}** ({detail})"


def append(path, title, body):
    """Appends `## title` and body to path (created if missing)."""
    if not path:
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a") as f:
        f.write(f"\n## {title}\n\n{body.strip()}\n")
