"""The managed note block: merged in place, the merchant's own text always kept."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from connector.platforms.shopify.notes import BLOCK_END, BLOCK_START, merchant_text, merge_note

# merchant text never contains our markers; block text is whatever the connector renders
merchant = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60).filter(
    lambda text: "---" not in text)
block_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60).filter(
    lambda text: "---" not in text)


def test_block_is_appended_after_a_blank_line() -> None:
    assert merge_note("Fragile", "ETA 1 Dec") == f"Fragile\n\n{BLOCK_START}\nETA 1 Dec\n{BLOCK_END}"


def test_block_alone_when_there_is_no_note() -> None:
    assert merge_note(None, "ETA 1 Dec") == f"{BLOCK_START}\nETA 1 Dec\n{BLOCK_END}"


def test_block_is_replaced_in_place() -> None:
    note = f"Before\n\n{BLOCK_START}\nold\n{BLOCK_END}\n\nAfter"
    assert merge_note(note, "new") == f"Before\n\n{BLOCK_START}\nnew\n{BLOCK_END}\n\nAfter"


def test_a_cut_off_block_is_replaced_to_the_end() -> None:
    assert merge_note(f"Keep\n{BLOCK_START}\nold lines", "new") == f"Keep\n\n{BLOCK_START}\nnew\n{BLOCK_END}"


def test_blank_text_without_a_block_leaves_the_note_byte_for_byte() -> None:
    assert merge_note("  merchant text\n\n", "   ") == "  merchant text\n\n"


@given(merchant, block_text)
def test_the_merchant_text_survives_any_block(note: str, text: str) -> None:
    assert merchant_text(merge_note(note, text)) == note.rstrip("\n")


@given(merchant, block_text, block_text)
def test_merging_twice_is_the_same_as_merging_the_last_text(note: str, first: str, second: str) -> None:
    # equal up to the trailing newlines of a note that never had a block
    assert merge_note(merge_note(note, first), second).rstrip("\n") == merge_note(note, second).rstrip("\n")


@given(merchant, block_text)
def test_merging_the_same_text_again_changes_nothing(note: str, text: str) -> None:
    once = merge_note(note, text)
    assert merge_note(once, text) == once
