"""The case record, as the moves write it.

A case is one record with one event log; each move writes its own part of it, in its own room
(bot/<move>/records.py), on the reading and snapshot code they share (bot.core.cases.CaseStore).
This class only puts them together, so a service holds one object and a reader finds `close` in
bot/closing/records.py and nowhere else.
"""

from __future__ import annotations

from bot.casefile.records import CaseFileRecords
from bot.checklist.records import StepRecords
from bot.closing.records import ClosingRecords
from bot.delivery.records import DeliveryRecords
from bot.escalation.records import EscalationRecords
from bot.intake.records import IntakeRecords


class Cases(IntakeRecords, DeliveryRecords, StepRecords, CaseFileRecords, EscalationRecords, ClosingRecords):
    """Every move's writes on the case record, and reading it (CaseStore)."""
