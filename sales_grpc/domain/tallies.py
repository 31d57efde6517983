"""Billing a document's lines in parts: an order in several invoices, an invoice in several
credit notes. Each part of a line is priced by the one pricing rule, and the part that
completes the line gets what is left of the line's amounts, so the parts always add up to the
line to the minor unit, however it was split."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from .documents.lines import DocumentLine
from .errors import FailedPrecondition, PreconditionViolation, Violations
from .pricing import LineAmounts, price_line


@dataclass(frozen=True)
class LineTally:
    """How much of one line later documents have taken: units and amounts."""

    quantity: int = 0
    gross: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)

    def plus(self, quantity: int, amounts: LineAmounts, sign: int = 1) -> LineTally:
        return LineTally(self.quantity + sign * quantity, self.gross + sign * amounts.gross,
                         self.discount + sign * amounts.discount, self.tax + sign * amounts.tax)


def tallies_for(lines: list[DocumentLine], tallies: list[LineTally]) -> list[LineTally]:
    """One tally per line (documents written before any part was taken have none)."""
    return list(tallies) + [LineTally()] * (len(lines) - len(tallies))


def portion(line: DocumentLine, quantity: int, taken: LineTally, document_discount: Decimal,
            currency: str) -> DocumentLine:
    """`quantity` units of `line`, of which `taken` is already billed: the remainder of the
    line's amounts when this completes it; otherwise the pricing rule's amounts for the units
    billed so far and these together, less what is billed. Pricing each part alone would round
    every part up (7 screws at 0.005 are 0.04, seven parts of 0.01 are 0.07) and leave a
    negative last part. After a part was given back, what is billed is no longer the price
    of its units, so each amount is kept within what is left, and so is the net."""
    a = line.amounts
    left = LineAmounts(a.gross - taken.gross, a.discount - taken.discount, a.tax - taken.tax)
    if taken.quantity + quantity == line.quantity:
        amounts = left
    else:
        upto = price_line(taken.quantity + quantity, line.unit_price, line.discount_rate,
                          document_discount, line.tax_rate, currency)
        gross = _within(upto.gross - taken.gross, Decimal(0), left.gross)
        discount = _within(upto.discount - taken.discount,
                           max(Decimal(0), gross - (left.gross - left.discount)),
                           min(left.discount, gross))
        amounts = LineAmounts(gross, discount, _within(upto.tax - taken.tax, Decimal(0),
                                                       left.tax))
    return replace(line, quantity=quantity, amounts=amounts)


def _within(amount: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return min(max(amount, low), high)


@dataclass(frozen=True)
class Selection:
    line_number: int  # 1-based
    quantity: int


def select(lines: list[DocumentLine], tallies: list[LineTally], wanted: list[Selection],
           path: str, what: str, subject: str) -> list[Selection]:
    """The parts to take: `wanted` checked against what is left of each line, or everything
    left when `wanted` is empty. INVALID_ARGUMENT for an unknown line or a quantity below 1;
    FAILED_PRECONDITION (a violation per line) for more than is left, or nothing left."""
    tallies = tallies_for(lines, tallies)
    if not wanted:
        wanted = [Selection(i + 1, line.quantity - tallies[i].quantity)
                  for i, line in enumerate(lines) if line.quantity > tallies[i].quantity]
        if not wanted:
            raise FailedPrecondition(f"{subject}: every line is already {what}",
                                     reason="NOTHING_LEFT",
                                     violations=[PreconditionViolation(
                                         "QUANTITY", subject, f"nothing left to be {what}")])
        return wanted
    v = Violations()
    asked: dict[int, int] = {}
    for i, part in enumerate(wanted):
        if not 1 <= part.line_number <= len(lines):
            v.add(f"{path}[{i}].line_number",
                  f"must be a line of the document, 1 to {len(lines)}")
        elif part.quantity < 1:
            v.add(f"{path}[{i}].quantity", "must be at least 1")
        else:
            asked[part.line_number] = asked.get(part.line_number, 0) + part.quantity
    v.raise_if_any()
    over = []
    for number, quantity in asked.items():
        line, taken = lines[number - 1], tallies[number - 1]
        left = line.quantity - taken.quantity
        if quantity > left:
            over.append(PreconditionViolation(
                "QUANTITY", f"{subject}/lines/{number}",
                f"line {number} ({line.sku}): {quantity} asked, {left} of {line.quantity} "
                f"left to be {what}"))
    if over:
        raise FailedPrecondition(f"{subject}: more than is left to be {what} on "
                                 f"{len(over)} line(s)", reason="QUANTITY_EXCEEDS_REMAINING",
                                 violations=over)
    return [Selection(number, quantity) for number, quantity in sorted(asked.items())]


def take(lines: list[DocumentLine], tallies: list[LineTally], parts: list[Selection],
         document_discount: Decimal, currency: str
         ) -> tuple[list[DocumentLine], list[int], list[LineTally]]:
    """The lines of the new document, their source line numbers, and the tallies after."""
    after = tallies_for(lines, tallies)
    taken: list[DocumentLine] = []
    for part in parts:
        i = part.line_number - 1
        line = portion(lines[i], part.quantity, after[i], document_discount, currency)
        after[i] = after[i].plus(part.quantity, line.amounts)
        taken.append(line)
    return taken, [p.line_number for p in parts], after


def give_back(tallies: list[LineTally], lines: list[DocumentLine], sources: list[int]
              ) -> list[LineTally]:
    """The tallies after a document that took `lines` (from `sources`) is deleted or void."""
    after = list(tallies)
    for line, number in zip(lines, sources, strict=True):
        after[number - 1] = after[number - 1].plus(line.quantity, line.amounts, -1)
    return after

