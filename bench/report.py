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


def fmt_seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}×"


def merge_results(sections: list[Section], machine: str, path: Path = RESULTS_PATH) -> Path:
    """Replace (or add) these sections in an existing RESULTS.md, matched by their number, and keep the rest."""
    existing = path.read_text() if path.exists() else "# Benchmark results\n"
    head, *bodies = existing.split("\n## ")
    kept = {body.split(".", 1)[0].strip(): "## " + body.rstrip() + "\n" for body in bodies}
    for section in sections:
        number = section.title.split(".", 1)[0].strip()
        text = section.markdown().rstrip("\n")
        text += (f"\n- measured on its own by `python -m bench.run --only ...` on {datetime.now(UTC):%Y-%m-%d %H:%M} "
                 f"UTC; machine: {machine}\n")
        kept[number] = text
    ordered = [kept[key] for key in sorted(kept, key=lambda key: (not key.isdigit(), int(key) if key.isdigit() else 0, key))]
    path.write_text(head.rstrip() + "\n\n" + "\n".join(ordered))
    return path
