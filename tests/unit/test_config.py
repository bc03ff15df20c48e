"""Configuration: environment variables parsed into a typed object (DESIGN.md §2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lambda_src.config import DEFAULT_MAX_ALERTS_PER_RUN, Config, ConfigError, load_config

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:registration-attachment-alerts"


def valid_environment(**overrides: str) -> dict[str, str]:
    environment = {
        "ALERT_TOPIC_ARN": TOPIC_ARN,
        "STATE_TABLE_NAME": "monitor-alert-state",
        "AWS_REGION": "us-east-1",
    }
    return environment | overrides


def without(name: str) -> dict[str, str]:
    environment = valid_environment()
    del environment[name]
    return environment


def test_minimal_environment_uses_the_defaults() -> None:
    config = load_config(valid_environment())
    assert config == Config(
        alert_topic_arn=TOPIC_ARN,
        state_table_name="monitor-alert-state",
        region="us-east-1",
    )
    assert config.max_alerts_per_run == DEFAULT_MAX_ALERTS_PER_RUN == 50
    assert config.reminder_interval is None
    assert config.full_inventory is False


def test_every_setting_is_read_from_strings() -> None:
    # Given every value as the string the stack sets (environment values are strings)
    environment = valid_environment(
        MAX_ALERTS_PER_RUN="50",
        ALERT_REMINDER_HOURS="24",
        FULL_INVENTORY="true",
    )
    # When parsed
    config = load_config(environment)
    # Then they are typed
    assert config.max_alerts_per_run == 50
    assert config.reminder_interval == timedelta(hours=24)
    assert config.full_inventory is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("TRUE", True), (" yes ", True), ("1", True), ("false", False), ("0", False)],
)
def test_full_inventory_accepts_common_boolean_spellings(raw: str, expected: bool) -> None:
    assert load_config(valid_environment(FULL_INVENTORY=raw)).full_inventory is expected


def test_zero_reminder_hours_means_no_reminders() -> None:
    assert load_config(valid_environment(ALERT_REMINDER_HOURS="0")).reminder_interval is None


def test_empty_optional_values_fall_back_to_defaults() -> None:
    config = load_config(
        valid_environment(MAX_ALERTS_PER_RUN="", ALERT_REMINDER_HOURS=" ", FULL_INVENTORY="")
    )
    assert config.max_alerts_per_run == DEFAULT_MAX_ALERTS_PER_RUN
    assert config.reminder_interval is None
    assert config.full_inventory is False


def test_topic_arn_of_another_partition_and_region_is_accepted() -> None:
    arn = "arn:aws-us-gov:sns:us-gov-west-1:123456789012:central-alerts"
    assert load_config(valid_environment(ALERT_TOPIC_ARN=arn)).alert_topic_arn == arn


# -- missing or malformed values ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["ALERT_TOPIC_ARN", "STATE_TABLE_NAME", "AWS_REGION"])
def test_missing_required_variable_is_named_with_the_fix(name: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(without(name))
    message = str(raised.value)
    assert message.startswith(f"{name} ")
    assert "is not set" in message
    assert "set it to a non-empty value" in message


@pytest.mark.parametrize("name", ["ALERT_TOPIC_ARN", "STATE_TABLE_NAME", "AWS_REGION"])
def test_blank_required_variable_counts_as_missing(name: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{name} is not set"):
        load_config(valid_environment(**{name: "   "}))


@pytest.mark.parametrize(
    "value",
    [
        "registration-attachment-alerts",
        "arn:aws:sqs:us-east-1:123456789012:registration-attachment-alerts",
        "arn:aws:sns:us-east-1",
        "urn:aws:sns:us-east-1:123456789012:alerts",
    ],
)
def test_alert_topic_that_is_not_an_sns_arn_is_rejected_with_the_expected_shape(
    value: str,
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(valid_environment(ALERT_TOPIC_ARN=value))
    message = str(raised.value)
    assert message.startswith("ALERT_TOPIC_ARN=")
    assert "is not an SNS ARN" in message
    assert "expected arn:<partition>:sns:<region>:<account>:<name>" in message


def test_not_a_number_max_alerts_is_named_with_an_example() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(valid_environment(MAX_ALERTS_PER_RUN="abc"))
    assert str(raised.value) == "MAX_ALERTS_PER_RUN='abc' is not a whole number: use e.g. 50"


@pytest.mark.parametrize("value", ["0", "-3"])
def test_max_alerts_below_one_is_named_with_the_minimum(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(valid_environment(MAX_ALERTS_PER_RUN=value))
    message = str(raised.value)
    assert message.startswith(f"MAX_ALERTS_PER_RUN={value!r}")
    assert "use a value of 1 or more" in message


def test_not_a_number_reminder_hours_is_named() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(valid_environment(ALERT_REMINDER_HOURS="x"))
    message = str(raised.value)
    assert message.startswith("ALERT_REMINDER_HOURS='x'")
    assert "is not a whole number" in message


def test_negative_reminder_hours_are_rejected() -> None:
    with pytest.raises(ConfigError, match=r"^ALERT_REMINDER_HOURS='-1' is below 0"):
        load_config(valid_environment(ALERT_REMINDER_HOURS="-1"))


def test_absurdly_large_reminder_hours_raise_a_config_error_naming_the_variable() -> None:
    # Given a value too large for a timedelta (more than 999,999,999 days)
    environment = valid_environment(ALERT_REMINDER_HOURS="100000000000")
    # Then it is a ConfigError naming the variable, not a bare OverflowError
    with pytest.raises(ConfigError, match="ALERT_REMINDER_HOURS"):
        load_config(environment)


def test_unknown_boolean_is_named_with_the_accepted_values() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(valid_environment(FULL_INVENTORY="maybe"))
    assert str(raised.value) == "FULL_INVENTORY='maybe' is not a boolean: use true or false"


def test_config_error_is_a_value_error() -> None:
    # The handler's error boundary catches it like any other bad value.
    assert issubclass(ConfigError, ValueError)
