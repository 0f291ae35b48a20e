"""Benchmark results as sections of figures, printed as they come and written to bench/RESULTS.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass
class Section:
    """One benchmark's figures: a table of (measure, value, reference, ratio) rows and notes."""

    title: str
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    goal: str = ""
    verdict: str = ""

    def add(self, measure: str, value: str, reference: str = "", ratio: str = "") -> None:
        self.rows.append((measure, value, reference, ratio))
        print(f"  {measure}: {value}" + (f"  (reference {reference}; ratio {ratio})" if reference else ""), flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def markdown(self) -> str:
        out = [f"## {self.title}", ""]
        if self.goal:
            out += [f"Goal: {self.goal}" + (f" — **{self.verdict}**" if self.verdict else ""), ""]
        if self.rows:
            out += ["| measure | value | reference | ratio |", "| --- | ---: | ---: | ---: |"]
            out += [f"| {m} | {v} | {r} | {q} |" for m, v, r, q in self.rows]
            out.append("")
        out += [f"- {note}" for note in self.notes]
        return "\n".join(out).rstrip() + "\n"


def write_results(sections: list[Section], machine: str, seconds: float, path: Path = RESULTS_PATH) -> Path:
    header = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`python -m bench.run`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"in {seconds / 60:.1f} minutes.",
        "",
        f"Machine: {machine}.",
        "",
        "Absolute times depend on the machine, so every figure stands next to a reference measured in the same "
        "run, and the ratio is what to compare between machines. Timings are the best of the repeats stated.",
        "",
    ]
    path.write_text("\n".join(header) + "\n" + "\n".join(section.markdown() for section in sections))
    return path


def update_results(sections: list[Section], machine: str, seconds: float, path: Path = RESULTS_PATH) -> Path:
    """Replace (or add, in number order) just these sections of RESULTS.md, each saying when and where it ran."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    head, *parts = text.split("\n## ")
    existing = {part.split("\n", 1)[0]: "## " + part for part in parts}
    for section in sections:
        section.note(f"measured on its own on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} minutes "
                     f"(`python -m bench.run --only ... --update-results`), machine: {machine}")
        existing[section.title] = section.markdown()
    ordered = sorted(existing.items(), key=lambda item: _number(item[0]))
    path.write_text(head.rstrip("\n") + "\n\n" + "\n".join(body.rstrip("\n") + "\n" for _, body in ordered))
    return path


def _number(title: str) -> tuple[int, str]:
    number = title.split(".", 1)[0]
    digits = "".join(ch for ch in number if ch.isdigit())
    return (int(digits) if digits else 99, number)


def fmt_seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}×"

