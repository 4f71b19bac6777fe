"""Plain-text tables for the terminal: the one renderer of `supportbot eval`, `eval compare`,
`calibrate` and `costs`."""

from __future__ import annotations

from collections.abc import Collection, Sequence


def render_table(
    rows: Sequence[Sequence[str]], *, indent: str = "", right: Collection[int] = ()
) -> list[str]:
    """Each row a line, its cells in columns as wide as their widest cell, two spaces apart;
    the columns numbered in `right` aligned right (figures), the others left. Trailing spaces
    are cut."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        (
            indent
            + "  ".join(
                cell.rjust(w) if i in right else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(r, widths, strict=True))
            )
        ).rstrip()
        for r in rows
    ]
