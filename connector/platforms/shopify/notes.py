"""The connector's managed block inside a Shopify order note, merged without touching the merchant's text."""

from __future__ import annotations

BLOCK_START = "--- backorder ETA (managed by backorder connector) ---"
BLOCK_END = "--- end backorder ETA ---"


def split_note(note: str | None) -> tuple[str, str, str | None]:
    """(text before the block, text after it, the block's body or None when there is no block)."""
    note = note or ""
    start = note.find(BLOCK_START)
    if start < 0:
        return note, "", None
    end = note.find(BLOCK_END, start + len(BLOCK_START))
    if end < 0:
        # a cut-off block (merchant deleted the end marker): it runs to the end of the note
        return note[:start], "", note[start + len(BLOCK_START):].strip("\n")
    return note[:start], note[end + len(BLOCK_END):], note[start + len(BLOCK_START):end].strip("\n")


def merchant_text(note: str | None) -> str:
    """The note with the managed block taken out."""
    before, after, _ = split_note(note)
    return _join(before, after)


def merge_note(note: str | None, text: str) -> str:
    """`note` with the managed block set to `text` (removed when `text` is blank).

    The block replaces an existing one in place, or is appended after a blank line; the
    merchant's text around it is kept as it was, apart from the blank lines that separated it.
    """
    before, after, current = split_note(note)
    body = text.strip("\n")
    if not body.strip():
        body = ""
    if (current or "") == body and (current is None) == (not body):
        return note or ""  # already showing this: leave the merchant's spacing alone
    if not body:
        return _join(before, after)
    block = f"{BLOCK_START}\n{body}\n{BLOCK_END}"
    head, tail = before.rstrip("\n"), after.lstrip("\n")
    parts = [part for part in (head, block, tail) if part]
    return "\n\n".join(parts)


def _join(before: str, after: str) -> str:
    head, tail = before.rstrip("\n"), after.lstrip("\n")
    if head and tail:
        return f"{head}\n\n{tail}"
    return head or tail
