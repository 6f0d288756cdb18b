"""When a smaller GETBULK is remembered for an agent (nmsquota.snmp.quirks.Learned): pure, no
SNMP. A tooBig is the agent's limit; a silence may be the poller's own load (issue 27)."""

from __future__ import annotations

from nmsquota.snmp.quirks import SILENT_POLLS, Learned


def test_a_too_big_refusal_is_remembered_at_once() -> None:
    learned = Learned()
    assert learned.answered_fewer(12, 25, refused=True, again=False)
    assert learned.max_repetitions == 12


def test_a_silence_is_remembered_only_when_it_comes_back_in_another_poll() -> None:
    learned = Learned()
    assert SILENT_POLLS == 2
    assert not learned.answered_fewer(12, 25, refused=False, again=False)
    # The same poll again (another request, another walk of it): still one poll.
    assert not learned.answered_fewer(6, 12, refused=False, again=True)
    assert learned.max_repetitions is None
    assert learned.answered_fewer(12, 25, refused=False, again=False)  # the next poll
    assert learned.max_repetitions == 12 and learned.silent_polls == 0


def test_a_poll_that_answers_as_many_as_went_unanswered_starts_the_count_over() -> None:
    learned = Learned()
    learned.answered_fewer(12, 25, refused=False, again=False)
    learned.answered_at(12)  # fewer than went unanswered: says nothing of the silence
    assert learned.silent_polls == 1
    learned.answered_at(25)
    assert learned.silent_polls == 0
    assert not learned.answered_fewer(12, 25, refused=False, again=False)
    assert learned.max_repetitions is None
