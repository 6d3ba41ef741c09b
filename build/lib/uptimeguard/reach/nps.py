"""Net Promoter Score: categories, the month's figure, and the survey's words. Pure.

An answer is a score from 0 to 10: 9 and 10 are promoters, 7 and 8 passives, 0 to 6
detractors. NPS is the share of promoters minus the share of detractors, in per cent
(-100 to 100), here rounded to one decimal place; with no answers there is none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PROMOTER, PASSIVE, DETRACTOR = "promoter", "passive", "detractor"
CATEGORIES = (PROMOTER, PASSIVE, DETRACTOR)
SCORES = range(11)
QUESTION = "How likely are you to recommend us to a friend or colleague?"
MAX_COMMENT = 2000


def category(score: int) -> str:
    if score not in SCORES:
        raise ValueError(f"an NPS score is 0 to 10, not {score}")
    if score >= 9:
        return PROMOTER
    return PASSIVE if score >= 7 else DETRACTOR


@dataclass(frozen=True, slots=True)
class NpsFigure:
    promoters: int
    passives: int
    detractors: int

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """Promoters minus detractors, per cent of responses; None without responses."""
        if not self.responses:
            return None
        return round(100 * (self.promoters - self.detractors) / self.responses, 1)


def figure(scores: Iterable[int]) -> NpsFigure:
    counts = dict.fromkeys(CATEGORIES, 0)
    for score in scores:
        counts[category(score)] += 1
    return NpsFigure(counts[PROMOTER], counts[PASSIVE], counts[DETRACTOR])


def survey_text(contact: str, customer: str, what: str, links: list[str]) -> str:
    """The survey email's text part: the question and the eleven links."""
    lines = [
        f"Hello {contact},",
        "",
        f"We have just resolved {what} for {customer}.",
        "",
        f"{QUESTION} Choose a number from 0 (not at all likely) to 10 (extremely likely):",
        "",
    ]
    lines += [f"  {score:>2}  {link}" for score, link in zip(SCORES, links, strict=True)]
    lines += [
        "",
        "One click answers; you may add a comment on the page it opens. Thank you.",
    ]
    return "\n".join(lines) + "\n"
