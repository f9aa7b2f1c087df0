"""A seed names one plan: kills of both kinds, none in the last round, storms, fault rules."""

from __future__ import annotations

from archive_devkit.chaos_plan import ChaosPlan, ChaosSettings


def decisions(settings):
    plan = ChaosPlan(settings)
    kills = [
        (region, number, attempt, plan.kill(region, number, attempt))
        for number in range(settings.rounds + 1)
        for region in settings.regions
        for attempt in range(2)
    ]
    storms = [
        (region, number, attempt, plan.storm(region, number, attempt))
        for number in range(settings.rounds + 1)
        for region in settings.regions
        for attempt in range(2)
    ]
    return kills, storms, [plan.sandbox_faults(region) for region in settings.regions]


def test_the_same_seed_gives_the_same_plan_and_another_seed_another():
    assert decisions(ChaosSettings(seed=5)) == decisions(ChaosSettings(seed=5))
    assert decisions(ChaosSettings(seed=5)) != decisions(ChaosSettings(seed=6))


def test_the_tap_and_the_target_are_both_killed_and_the_last_round_is_left_alone():
    for settings in (ChaosSettings(seed=1), ChaosSettings.short_form(seed=1)):
        kills, storms, _ = decisions(settings)
        planned = [kill for _, number, _, kill in kills if kill is not None]
        assert {kill.victim for kill in planned} == {"tap", "target"}
        assert all(kill is None for _, number, _, kill in kills if number == settings.rounds)
        first_attempts = [kill for _, number, attempt, kill in kills if attempt == 0]
        assert all(kill is not None for kill in first_attempts[: -len(settings.regions)])
        stormy = [(region, number, attempt) for region, number, attempt, s in storms if s]
        assert stormy
        assert not any(
            plan_kill
            for region, number, attempt, plan_kill in kills
            if (region, number, attempt) in stormy
        ), "a storm needs a tap that lives"


def test_sandbox_faults_cover_every_kind_with_their_own_seed():
    _, _, faults = decisions(ChaosSettings(seed=3))
    kinds = {(rule["kind"], rule.get("status")) for rule in faults[0]["faults"]}
    assert kinds == {
        ("status", 500),
        ("status", 502),
        ("status", 503),
        ("drop", None),
        ("truncate", None),
    }
    assert len({rules["seed"] for rules in faults}) == len(faults)
